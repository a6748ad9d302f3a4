//! Liveness and readiness.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use kube::Api;
use kube::api::ListParams;

use super::AppState;
use crate::model::crd::PreviewEnvironment;

/// The process is alive.
pub(crate) async fn alive() -> &'static str {
    "ok"
}

/// Ready to take webhooks: not shutting down, the API server answers, and it serves the
/// PreviewEnvironment CRD to previewd. One list of at most one preview's metadata answers both
/// questions (and that previewd may list them), so a probe costs one small request.
pub(crate) async fn ready(State(app): State<AppState>) -> (StatusCode, String) {
    if !app.accepting.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned());
    }
    let previews: Api<PreviewEnvironment> = Api::all(app.client.clone());
    let listed = previews
        .list_metadata(&ListParams::default().limit(1))
        .await;
    if let Err(error) = &listed {
        tracing::debug!(%error, "not ready");
    }
    verdict(listed.map(drop))
}

/// The probe's answer, given the API server's answer to a list of PreviewEnvironments.
fn verdict(listed: Result<(), kube::Error>) -> (StatusCode, String) {
    let not_ready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, why);
    match listed {
        Ok(()) => (StatusCode::OK, "ok".to_owned()),
        Err(kube::Error::Api(status)) => not_ready(match status.code {
            404 => "the PreviewEnvironment CRD (previewenvironments.previewd.dev) is not \
                    installed: apply `previewd crd` or install the Helm chart"
                .to_owned(),
            code @ (401 | 403) => format!(
                "the Kubernetes API server refuses to list PreviewEnvironments ({code}): check \
                 previewd's credentials and RBAC"
            ),
            code => format!(
                "the Kubernetes API server answered {code} to a list of PreviewEnvironments"
            ),
        }),
        Err(_) => not_ready("Kubernetes API server unreachable".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api_error(code: u16) -> Result<(), kube::Error> {
        Err(kube::Error::Api(
            Status::failure(
                "the server could not find the requested resource",
                "NotFound",
            )
            .with_code(code)
            .boxed(),
        ))
    }

    #[test]
    fn ready_only_when_the_list_succeeds() {
        assert_eq!(verdict(Ok(())), (StatusCode::OK, "ok".to_owned()));
        for code in [404, 403, 401, 500, 429] {
            assert_eq!(verdict(api_error(code)).0, StatusCode::SERVICE_UNAVAILABLE);
        }
    }

    #[test]
    fn each_reason_is_named() {
        let (_, missing) = verdict(api_error(404));
        assert!(missing.contains("CRD (previewenvironments.previewd.dev) is not installed"));
        let (_, forbidden) = verdict(api_error(403));
        assert!(forbidden.contains("refuses to list PreviewEnvironments (403)"));
        let (_, other) = verdict(api_error(500));
        assert!(other.contains("answered 500"));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let unreachable = Err(kube::Error::Service(Box::new(refused)));
        assert_eq!(verdict(unreachable).1, "Kubernetes API server unreachable");
    }
}
