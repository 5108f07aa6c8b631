use crate::{AwsError, FlagSource};
use cutover_core::Flags;
use std::sync::Mutex;

/// Cutover's flags as AppConfig would serve them; a test flips one with [`FakeFlags::set`] or makes
/// AppConfig unreachable with [`FakeFlags::fail`].
#[derive(Default)]
pub struct FakeFlags {
    flags: Mutex<Flags>,
    failure: Mutex<Option<AwsError>>,
    pub(crate) calls: super::Calls,
}

impl FakeFlags {
    pub fn new(flags: Flags) -> FakeFlags {
        FakeFlags {
            flags: Mutex::new(flags),
            ..FakeFlags::default()
        }
    }

    pub fn set(&self, flags: Flags) {
        *self.flags.lock().unwrap() = flags;
    }

    /// Every read from now on fails with `error`.
    pub fn fail(&self, error: AwsError) {
        *self.failure.lock().unwrap() = Some(error);
    }
}

impl FlagSource for FakeFlags {
    async fn flags(&self) -> Result<Flags, AwsError> {
        self.calls.note("FlagSource::flags");
        match self.failure.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(*self.flags.lock().unwrap()),
        }
    }
}
