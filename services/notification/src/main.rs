//! `twotier-notification`: the notification service alone, as deployed on
//! Kubernetes. `serve` (the default) or `migrate`.

fn main() -> std::process::ExitCode {
    twotier_platform::startup::run_binary::<twotier_notification::NotificationService>()
}
