"""A local stand-in for Route 53's health checkers, which no emulator has: moto answers every
GetHealthCheckStatus with a fixed success, ministack does not serve the call at all.

GET /2013-04-01/healthcheck/<id>/status reads the check's configuration from ministack (type, address,
port, path) and probes the endpoint as that many checkers would (CHECKERS, default 8, each its own
HTTP request with a 2-second timeout), answering AWS's XML shape: one HealthCheckObservation per
checker, its StatusReport "Success: HTTP Status Code 200, OK" or "Failure: …". Every other request
is passed to ministack unchanged, so a client pointed here (AWS_ENDPOINT_URL_ROUTE_53) sees one Route 53.
Environment: ROUTE53_CHECKER_PORT, MINISTACK_URL, CHECKERS.
"""

import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import boto3

NS = "https://route53.amazonaws.com/doc/2013-04-01/"
STATUS = re.compile(r"^/2013-04-01/healthcheck/([^/]+)/status/?$")
# Route 53's checker regions, as the API names them.
CHECKER_REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                   "ap-northeast-1", "sa-east-1"]
MINISTACK = os.environ["MINISTACK_URL"]
CHECKERS = int(os.environ.get("CHECKERS", "8"))
r53 = boto3.client("route53", endpoint_url=MINISTACK, region_name="us-east-1")


def probe(cfg):
    """One checker's observation of the endpoint the check names."""
    kind = cfg.get("Type", "HTTP")
    if kind not in ("HTTP", "HTTPS"):
        return f"Failure: the local checker probes HTTP checks only, not {kind}."
    host = cfg.get("IPAddress") or cfg.get("FullyQualifiedDomainName")
    url = f"{kind.lower()}://{host}:{cfg.get('Port', 80)}{cfg.get('ResourcePath', '/')}"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return f"Success: HTTP Status Code {r.status}, OK"
    except urllib.error.HTTPError as e:
        return f"Failure: HTTP Status Code {e.code}, {e.reason}. Resolved IP: {host}"
    except (OSError, http.client.HTTPException) as e:
        return f"Failure: Connection failed ({e}). Resolved IP: {host}"


def observations_xml(statuses):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    items = "".join(
        f"<HealthCheckObservation><Region>{region}</Region><IPAddress>15.177.{i}.1</IPAddress>"
        f"<StatusReport><Status>{escape(status)}</Status><CheckedTime>{now}</CheckedTime></StatusReport>"
        f"</HealthCheckObservation>"
        for i, (region, status) in enumerate(zip(CHECKER_REGIONS * 4, statuses)))
    return (f'<?xml version="1.0" encoding="UTF-8"?><GetHealthCheckStatusResponse xmlns="{NS}">'
            f"<HealthCheckObservations>{items}</HealthCheckObservations></GetHealthCheckStatusResponse>")


def error_xml(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error></ErrorResponse>")


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, hc_id):
        try:
            cfg = r53.get_health_check(HealthCheckId=hc_id)["HealthCheck"]["HealthCheckConfig"]
        except r53.exceptions.NoSuchHealthCheck:
            return self._send(404, error_xml("NoSuchHealthCheck", f"A health check with id {hc_id} does not exist."),
                              [("Content-Type", "text/xml")])
        statuses = [probe(cfg) for _ in range(CHECKERS)]
        self._send(200, observations_xml(statuses), [("Content-Type", "text/xml")])

    def _proxy(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        req = urllib.request.Request(MINISTACK + self.path, data=body or None, method=self.command,
                                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return self._send(r.status, r.read(), [("Content-Type", r.headers.get("Content-Type", "text/xml"))])
        except urllib.error.HTTPError as e:
            return self._send(e.code, e.read(), [("Content-Type", e.headers.get("Content-Type", "text/xml"))])

    def do_GET(self):
        m = STATUS.match(self.path.split("?", 1)[0])
        return self._status(m.group(1)) if m else self._proxy()

    do_POST = do_DELETE = do_PUT = _proxy

    def log_message(self, fmt, *args):  # one line per request in the log, not stderr noise
        print(f"route53-checker: {self.command} {self.path} {args[1] if len(args) > 1 else ''}", flush=True)


def main():
    port = int(os.environ["ROUTE53_CHECKER_PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"route53-checker: on 127.0.0.1:{port}, {CHECKERS} checkers, other calls to {MINISTACK}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
