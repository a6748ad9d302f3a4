//! One bounded renderer run: an empty environment but for the scratch directory's paths and a
//! refusing proxy, the memory bound set in the child before it runs, the time bound, and its
//! output read up to the output bound.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::Limits;
use super::scratch::Scratch;

/// A proxy address nothing listens on (the discard port on loopback): a renderer that tries
/// to fetch anything over HTTP(S) is refused.
const REFUSING_PROXY: &str = "http://127.0.0.1:9";
/// Bytes of a renderer's error output kept for the message.
const ERROR_BYTES: usize = 64 * 1024;

/// What a run printed, or why it failed (in words for the preview's status and comment).
pub(crate) async fn run(
    program: &OsString,
    args: &[OsString],
    scratch: &Scratch,
    limits: &Limits,
    what: &str,
) -> Result<String, String> {
    let home = scratch.dir("home")?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .current_dir(scratch.path())
        .env_clear()
        .envs(environment(&home, limits))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let memory = limits.memory_bytes;
    // SAFETY: the closure runs in the child between fork and exec and only calls setrlimit(2),
    // a system call that allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::DATA, memory, memory));
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("{what}: cannot start {}: {e}", Path::new(program).display()))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let finished = async {
        let (out, err, status) = tokio::join!(
            read_capped(stdout, limits.output_bytes),
            read_capped(stderr, ERROR_BYTES),
            child.wait()
        );
        (out, err, status)
    };
    let Ok((out, err, status)) = tokio::time::timeout(limits.timeout, finished).await else {
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Err(format!(
            "{what}: stopped after {} s, its time bound",
            limits.timeout.as_secs_f64()
        ));
    };
    let status = status.map_err(|e| format!("{what}: {e}"))?;
    let (out, overflowed) = out;
    let (err, _) = err;
    if overflowed {
        return Err(format!(
            "{what}: printed more than {} bytes, its output bound",
            limits.output_bytes
        ));
    }
    if !status.success() {
        return Err(failure(what, &String::from_utf8_lossy(&err), limits));
    }
    String::from_utf8(out).map_err(|_| format!("{what}: printed text that is not UTF-8"))
}

/// The renderer's whole environment: a home, caches and configuration in the scratch
/// directory, no kubeconfig, HTTP refused, and the Go heap kept under the memory bound.
fn environment(home: &Path, limits: &Limits) -> Vec<(&'static str, OsString)> {
    let under = |name: &str| home.join(name).into_os_string();
    let mut env = vec![
        ("HOME", home.as_os_str().to_owned()),
        ("HELM_CACHE_HOME", under("cache")),
        ("HELM_CONFIG_HOME", under("config")),
        ("HELM_DATA_HOME", under("data")),
        ("HELM_PLUGINS", under("plugins")),
        ("KUBECONFIG", under("no-kubeconfig")),
        // Two threads run Go code at most, whatever the node's cores.
        ("GOMAXPROCS", OsString::from("2")),
        ("NO_PROXY", OsString::new()),
        ("no_proxy", OsString::new()),
        (
            "GOMEMLIMIT",
            OsString::from(format!(
                "{}MiB",
                limits.memory_bytes * 3 / 4 / (1024 * 1024)
            )),
        ),
    ];
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
    ] {
        env.push((proxy, OsString::from(REFUSING_PROXY)));
    }
    env
}

/// Reads `pipe` up to `cap` bytes: (what was read, whether there was more). The rest is left
/// unread; the writer meets a closed pipe.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> (Vec<u8>, bool) {
    let Some(pipe) = pipe else {
        return (Vec::new(), false);
    };
    let mut read = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let _ = pipe.take(limit).read_to_end(&mut read).await;
    let overflowed = read.len() > cap;
    read.truncate(cap);
    (read, overflowed)
}

/// Why a renderer that exited with an error failed: its own words (the lines after Go's
/// stack traces are dropped), or the memory bound when the Go runtime ran out of memory.
fn failure(what: &str, stderr: &str, limits: &Limits) -> String {
    let out_of_memory = [
        "out of memory",
        "cannot allocate memory",
        "pthread_create failed",
    ];
    if out_of_memory.iter().any(|said| stderr.contains(said)) {
        return format!(
            "{what}: ran out of its memory bound ({} MiB)",
            limits.memory_bytes / (1024 * 1024)
        );
    }
    let mut said = String::new();
    for line in stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("Use --debug flag"))
        .take_while(|line| !line.starts_with("goroutine "))
        .take(8)
    {
        if !said.is_empty() {
            // A line that ends in `:` goes on in the next one.
            said.push_str(if said.ends_with(':') { " " } else { "; " });
        }
        said.push_str(line.strip_prefix("Error: ").unwrap_or(line));
    }
    if said.is_empty() {
        format!("{what}: exited with an error and said nothing")
    } else {
        format!("{what}: {said}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_of_memory_renderer_is_said_to_have_reached_the_memory_bound() {
        let limits = Limits::default();
        let said = failure(
            "helm template",
            "fatal error: runtime: out of memory\n\ngoroutine 1 [running]:\n...",
            &limits,
        );
        assert_eq!(said, "helm template: ran out of its memory bound (256 MiB)");
    }

    #[test]
    fn a_failure_keeps_the_renderer_words_without_stack_traces() {
        let said = failure(
            "helm template",
            "Error: app/templates/a.yaml:3:5\n  executing \"a\" at <.x>:\n  nil pointer\nUse --debug flag to render out invalid YAML\n\ngoroutine 1 [running]:\nmain.main()\n",
            &Limits::default(),
        );
        assert_eq!(
            said,
            "helm template: app/templates/a.yaml:3:5; executing \"a\" at <.x>: nil pointer"
        );
        assert_eq!(
            failure("helm template", "  \n", &Limits::default()),
            "helm template: exited with an error and said nothing"
        );
    }
}
