//! Where Cutover lives in an account: region, credentials and endpoints the standard AWS way
//! (environment, `~/.aws/config`, `AWS_PROFILE`, `AWS_ENDPOINT_URL*`), and the deployed stack's
//! resources from flags, environment variables, or the CloudFormation stack's outputs.

use crate::args::SharedArgs;
use aws_sdk_cloudformation as cfn;
use std::collections::HashMap;

pub struct Context {
    pub conf: aws_config::SdkConfig,
    args: SharedArgs,
    outputs: Option<HashMap<String, String>>,
}

impl Context {
    pub async fn new(args: SharedArgs) -> Context {
        Context {
            conf: cutover_aws::sdk_config().await,
            args,
            outputs: None,
        }
    }

    /// A stack output, read once (one DescribeStacks) and only when no flag or variable gave it.
    async fn output(&mut self, key: &str) -> Result<String, String> {
        self.optional_output(key).await?.ok_or_else(|| {
            format!(
                "stack {} has no output {key}; pass it by flag or environment",
                self.args.stack
            )
        })
    }

    /// A stack output the stack may not have (a conditional resource's); an error only when the
    /// stack's outputs cannot be read.
    async fn optional_output(&mut self, key: &str) -> Result<Option<String>, String> {
        if self.outputs.is_none() {
            let out = cfn::Client::new(&self.conf)
                .describe_stacks()
                .stack_name(&self.args.stack)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "reading stack {}'s outputs: {}",
                        self.args.stack,
                        cutover_aws::AwsError::from_sdk("DescribeStacks", e)
                    )
                })?;
            let outputs = out
                .stacks()
                .first()
                .map(|s| {
                    s.outputs()
                        .iter()
                        .filter_map(|o| {
                            Some((o.output_key()?.to_string(), o.output_value()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            self.outputs = Some(outputs);
        }
        Ok(self.outputs.as_ref().and_then(|o| o.get(key).cloned()))
    }

    pub async fn state_machine_arn(&mut self) -> Result<String, String> {
        match self.args.state_machine_arn.clone() {
            Some(v) => Ok(v),
            None => self.output("DeployStateMachineArn").await,
        }
    }

    pub async fn release_state_machine_arn(&mut self) -> Result<String, String> {
        match self.args.release_state_machine_arn.clone() {
            Some(v) => Ok(v),
            None => self.output("ReleaseStateMachineArn").await,
        }
    }

    pub async fn migrate_state_machine_arn(&mut self) -> Result<String, String> {
        match self.args.migrate_state_machine_arn.clone() {
            Some(v) => Ok(v),
            None => self.output("MigrateStateMachineArn").await,
        }
    }

    /// The service's target configuration from SSM, checked with the metric rules this process's
    /// environment sets (`METRIC_PERIOD_FLOOR_SECONDS`), as the functions check it.
    pub async fn target(&self, app: &str, env: &str) -> Result<cutover_core::TargetConfig, String> {
        use cutover_aws::TargetSource;
        let rules = cutover_aws::aws_cloud::metric_rules(|k| std::env::var(k).ok())
            .map_err(|e| e.to_string())?;
        cutover_aws::config::SsmTargets::from_conf(&self.conf, rules)
            .target(app, env)
            .await
            .map_err(|f| f.reason)
    }

    pub async fn ledger_table(&mut self) -> Result<String, String> {
        match self.args.ledger_table.clone() {
            Some(v) => Ok(v),
            None => self.output("LedgerTableName").await,
        }
    }

    /// The FIS experiment template of stop-tasks drills: `None` when the stack was deployed
    /// without DrillAlarmArn.
    pub async fn drill_experiment_template(&mut self) -> Result<Option<String>, String> {
        self.optional_output("DrillExperimentTemplateId").await
    }

    pub async fn rollback_function(&mut self) -> Result<String, String> {
        match self.args.rollback_function.clone() {
            Some(v) => Ok(v),
            None => self.output("RollbackFunctionName").await,
        }
    }
}
