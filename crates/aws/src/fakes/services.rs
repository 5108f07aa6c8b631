use crate::{AwsError, Services};
use cutover_core::{Release, Rollout, ServiceState};
use std::collections::HashMap;
use std::sync::Mutex;

/// ECS as the local emulator behaves: updates complete at once.
#[derive(Default)]
pub struct FakeServices {
    pub(crate) calls: super::Calls,
    pub services: Mutex<HashMap<String, ServiceState>>,
    pub registered: Mutex<Vec<Release>>,
    /// The environment variables each registration added, in order.
    pub environments: Mutex<Vec<Vec<(String, String)>>>,
    /// When set, RegisterTaskDefinition fails with it (a policy without the action, say).
    pub register_failure: Mutex<Option<AwsError>>,
}

impl FakeServices {
    pub fn add(&self, name: &str, task_definition_arn: &str, desired: i32) {
        let s = ServiceState {
            name: name.into(),
            task_definition_arn: task_definition_arn.into(),
            desired,
            running: desired,
            pending: 0,
            rollout: Rollout::Completed,
            failed_tasks: 0,
            deployments: 1,
        };
        self.services.lock().unwrap().insert(name.into(), s);
    }

    pub fn get(&self, name: &str) -> ServiceState {
        self.services.lock().unwrap()[name].clone()
    }
}

impl Services for FakeServices {
    async fn service(&self, cluster: &str, name: &str) -> Result<ServiceState, AwsError> {
        self.calls.note("Services::service");
        self.services
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| AwsError::NotFound {
                what: "ECS service",
                id: format!("{cluster}/{name}"),
            })
    }

    async fn register_with_image(
        &self,
        from: &str,
        _container: &str,
        image: &str,
        environment: &[(String, String)],
    ) -> Result<Release, AwsError> {
        self.calls.note("Services::register_with_image");
        if let Some(e) = self.register_failure.lock().unwrap().clone() {
            return Err(e);
        }
        self.environments.lock().unwrap().push(environment.to_vec());
        let mut registered = self.registered.lock().unwrap();
        let release = Release {
            task_definition_arn: format!("{from}+{}", registered.len() + 1),
            image: image.into(),
        };
        registered.push(release.clone());
        Ok(release)
    }

    async fn update_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: Option<&str>,
        desired: i32,
    ) -> Result<(), AwsError> {
        self.calls.note("Services::update_service");
        let mut services = self.services.lock().unwrap();
        let s = services.get_mut(name).ok_or_else(|| AwsError::NotFound {
            what: "ECS service",
            id: format!("{cluster}/{name}"),
        })?;
        if let Some(td) = task_definition {
            s.task_definition_arn = td.into();
        }
        s.desired = desired;
        s.running = desired;
        Ok(())
    }
}
