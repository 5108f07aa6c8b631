//! The part of CloudWatch metric math the dashboard uses, for the one emulator that does not evaluate
//! it: numbers, query ids, `+ - * /`, parentheses and `FILL(id, number)`, over one value per id
//! (a single period, as a single-value widget reads it). An id with no value is an error, unless
//! FILL gives it one; division by zero is an error, as CloudWatch leaves such a point out.

use std::collections::BTreeMap;

pub fn eval(expression: &str, values: &BTreeMap<String, f64>) -> Result<f64, String> {
    let tokens = tokens(expression)?;
    let mut p = Parser {
        tokens,
        at: 0,
        values,
    };
    let v = p.sum()?;
    match p.tokens.get(p.at) {
        None => Ok(v),
        Some(t) => Err(format!("unexpected {t:?}")),
    }
}

/// The ids an expression reads through FILL.
pub fn filled(expression: &str) -> Vec<String> {
    let t = tokens(expression).unwrap_or_default();
    t.windows(3)
        .filter_map(|w| match w {
            [Token::Name(f), Token::Open, Token::Name(id)] if f == "FILL" => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Op(char),
    Open,
    Close,
    Comma,
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '+' | '-' | '*' | '/' => out.push(Token::Op(chars.next().unwrap())),
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            c if c.is_ascii_digit() || c == '.' => {
                let mut n = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                    n.push(d);
                    chars.next();
                }
                out.push(Token::Number(
                    n.parse().map_err(|_| format!("bad number {n}"))?,
                ));
            }
            c if c.is_ascii_alphabetic() => {
                let mut n = String::new();
                while let Some(&d) = chars
                    .peek()
                    .filter(|d| d.is_ascii_alphanumeric() || **d == '_')
                {
                    n.push(d);
                    chars.next();
                }
                out.push(Token::Name(n));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    values: &'a BTreeMap<String, f64>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            t => Err(format!("expected {want:?}, got {t:?}")),
        }
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut v = self.product()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.tokens.get(self.at).cloned() {
            self.at += 1;
            let r = self.product()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut v = self.atom()?;
        while let Some(Token::Op(op @ ('*' | '/'))) = self.tokens.get(self.at).cloned() {
            self.at += 1;
            let r = self.atom()?;
            if op == '/' && r == 0.0 {
                return Err("division by zero".into());
            }
            v = if op == '*' { v * r } else { v / r };
        }
        Ok(v)
    }

    fn atom(&mut self) -> Result<f64, String> {
        match self.next() {
            Some(Token::Number(n)) => Ok(n),
            Some(Token::Open) => {
                let v = self.sum()?;
                self.expect(Token::Close)?;
                Ok(v)
            }
            Some(Token::Name(f)) if f == "FILL" => {
                self.expect(Token::Open)?;
                let Some(Token::Name(id)) = self.next() else {
                    return Err("FILL takes a query id".into());
                };
                self.expect(Token::Comma)?;
                let Some(Token::Number(fill)) = self.next() else {
                    return Err("FILL's value must be a number".into());
                };
                self.expect(Token::Close)?;
                Ok(self.values.get(&id).copied().unwrap_or(fill))
            }
            Some(Token::Name(id)) => self
                .values
                .get(&id)
                .copied()
                .ok_or(format!("{id} has no data")),
            t => Err(format!("unexpected {t:?}")),
        }
    }
}

#[test]
fn the_success_rate_of_one_promoted_and_one_rolled_back_deployment_is_50() {
    let v = BTreeMap::from([("p".to_string(), 1.0), ("r".to_string(), 1.0)]);
    let e = "100*FILL(p,0)/(FILL(p,0)+FILL(r,0)+FILL(f,0))";
    assert_eq!(eval(e, &v), Ok(50.0));
    assert_eq!(filled(e), ["p", "p", "r", "f"]);
    assert!(eval("100*p/f", &v).is_err(), "f has no data");
    assert!(eval("1/(p-r)", &v).is_err(), "division by zero");
}
