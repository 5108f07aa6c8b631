//! The table switch of a migration, routed by what the spec names: an SSM parameter or an AppConfig
//! feature flag.

use crate::config::SsmSwitch;
use crate::flag_switch::AppConfigFlagSwitch;
use crate::AwsError;
use cutover_core::migration::SwitchTarget;

pub struct Switches {
    pub parameters: SsmSwitch,
    pub flags: AppConfigFlagSwitch,
}

impl Switches {
    /// `flag_strategy`: the AppConfig deployment strategy (no bake) that flag changes deploy with.
    pub fn from_conf(conf: &aws_config::SdkConfig, flag_strategy: Option<String>) -> Self {
        Switches {
            parameters: SsmSwitch::from_conf(conf),
            flags: AppConfigFlagSwitch::new(aws_sdk_appconfig::Client::new(conf), flag_strategy),
        }
    }
}

impl crate::SwitchStore for Switches {
    async fn get(&self, at: &SwitchTarget) -> Result<Option<String>, AwsError> {
        match at {
            SwitchTarget::Parameter(name) => self.parameters.get(name).await,
            SwitchTarget::Flag(r) => self.flags.get(r).await,
        }
    }

    async fn put(&self, at: &SwitchTarget, value: &str) -> Result<(), AwsError> {
        match at {
            SwitchTarget::Parameter(name) => self.parameters.put(name, value).await,
            SwitchTarget::Flag(r) => self.flags.put(r, value).await,
        }
    }

    async fn delete(&self, at: &SwitchTarget) -> Result<(), AwsError> {
        match at {
            SwitchTarget::Parameter(name) => self.parameters.delete(name).await,
            SwitchTarget::Flag(r) => self.flags.delete(r).await,
        }
    }
}
