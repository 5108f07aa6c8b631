use crate::{AwsError, FlagSource};
use cutover_core::Flags;
use std::sync::Mutex;

/// Cutover's flags as AppConfig would serve them; a test flips one with [`FakeFlags::set`].
#[derive(Default)]
pub struct FakeFlags(Mutex<Flags>);

impl FakeFlags {
    pub fn new(flags: Flags) -> FakeFlags {
        FakeFlags(Mutex::new(flags))
    }

    pub fn set(&self, flags: Flags) {
        *self.0.lock().unwrap() = flags;
    }
}

impl FlagSource for FakeFlags {
    async fn flags(&self) -> Result<Flags, AwsError> {
        Ok(*self.0.lock().unwrap())
    }
}
