//! The table switch of a migration, routed by what the spec names: an SSM parameter or an AppConfig
//! feature flag.

use crate::config::SsmSwitch;
use crate::flag_switch::AppConfigFlagSwitch;
use crate::AwsError;
use cutover_core::migration::SwitchTarget;

/// A parameter switch needs SSM; a flag switch resolves names by listing (which supports no
/// resource-level permissions), reads what the environment serves and deploys the edited document.
pub const PERMISSIONS: &[crate::iam::Needs] = {
    use crate::config::{SWITCH_DELETE, SWITCH_GET, SWITCH_PUT};
    use crate::iam::{allow, Permission};
    const APP: &str =
        "arn:{partition}:appconfig:{region}:{account}:application/{switch_application}";
    const ENV: &str = "arn:{partition}:appconfig:{region}:{account}:application/{switch_application}/environment/{switch_environment}";
    const PROFILE: &str = "arn:{partition}:appconfig:{region}:{account}:application/{switch_application}/configurationprofile/{switch_profile}";
    const READ: [Permission; 6] = [
        allow("appconfig:ListApplications", "*"),
        allow("appconfig:ListEnvironments", "*"),
        allow("appconfig:ListConfigurationProfiles", "*"),
        allow("appconfig:ListDeployments", ENV),
        allow("appconfig:GetDeployment", concat!("arn:{partition}:appconfig:{region}:{account}:application/{switch_application}/environment/{switch_environment}", "/deployment/{deployment}")),
        allow("appconfig:GetHostedConfigurationVersion", concat!("arn:{partition}:appconfig:{region}:{account}:application/{switch_application}/configurationprofile/{switch_profile}", "/hostedconfigurationversion/{version}")),
    ];
    const WRITE: [Permission; 6] = [
        allow("appconfig:CreateHostedConfigurationVersion", PROFILE),
        allow("appconfig:StartDeployment", APP),
        allow("appconfig:StartDeployment", ENV),
        allow("appconfig:StartDeployment", PROFILE),
        allow("appconfig:StartDeployment", "arn:{partition}:appconfig:{region}:{account}:deploymentstrategy/{flags_strategy}"),
        allow("appconfig:GetDeployment", concat!("arn:{partition}:appconfig:{region}:{account}:application/{switch_application}/environment/{switch_environment}", "/deployment/{deployment}")),
    ];
    &[
        (
            "SwitchStore::get",
            &[
                SWITCH_GET, READ[0], READ[1], READ[2], READ[3], READ[4], READ[5],
            ],
        ),
        (
            "SwitchStore::put",
            &[
                SWITCH_PUT, READ[0], READ[1], READ[2], READ[3], READ[4], READ[5], WRITE[0],
                WRITE[1], WRITE[2], WRITE[3], WRITE[4], WRITE[5],
            ],
        ),
        (
            "SwitchStore::delete",
            &[
                SWITCH_DELETE,
                READ[0],
                READ[1],
                READ[2],
                READ[3],
                READ[4],
                READ[5],
                WRITE[0],
                WRITE[1],
                WRITE[2],
                WRITE[3],
                WRITE[4],
                WRITE[5],
            ],
        ),
    ]
};

pub struct Switches {
    pub parameters: SsmSwitch,
    pub flags: AppConfigFlagSwitch,
}

impl Switches {
    /// `flag_strategy`: the AppConfig deployment strategy (no bake) that flag changes deploy with;
    /// `own_flags`: Cutover's own flags application, which no switch may name.
    pub fn from_conf(
        conf: &aws_config::SdkConfig,
        flag_strategy: Option<String>,
        own_flags: Option<String>,
    ) -> Self {
        Switches {
            parameters: SsmSwitch::from_conf(conf),
            flags: AppConfigFlagSwitch::new(aws_sdk_appconfig::Client::new(conf), flag_strategy)
                .protecting(own_flags),
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
