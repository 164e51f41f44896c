//! The deployment files in `deploy/`, checked without a container engine
//! or a cluster: the Kubernetes manifests and the compose file parse, probe
//! the service's real routes on the port it listens on, and carry settings
//! and rules that load; the NATS configs pass `nats-server -t`; the systemd
//! unit passes `systemd-analyze verify` where systemd is installed; the
//! Dockerfile runs the binary alone as a non-root user.

use crate::repo_path;
use crate::support::nats::nats_server_bin;
use newsalert::http::probes::{HEALTHZ, READYZ};
use newsalert::regions::Gazetteer;
use newsalert::rulebook::RuleBook;
use newsalert::settings::Settings;
use serde_norway::Value;
use std::process::Command;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_path(path)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("no string at {path:?}"))
}

/// Settings from `dir` plus `env`, validated, with every problem shown.
fn settings_load(dir: &std::path::Path, env: Vec<(String, String)>) -> Settings {
    let settings = Settings::load_with_env(dir, env).expect("settings load");
    let problems = settings.validate();
    assert!(problems.is_empty(), "{problems:?}");
    settings
}

#[test]
fn kubernetes_manifests_probe_the_real_routes_and_their_config_loads() {
    let deployment = yaml("deploy/k8s/deployment.yaml");
    let pod = &deployment["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    assert_eq!(
        str_at(container, &["livenessProbe", "httpGet", "path"]),
        HEALTHZ
    );
    assert_eq!(
        str_at(container, &["readinessProbe", "httpGet", "path"]),
        READYZ
    );
    assert_eq!(
        str_at(container, &["livenessProbe", "httpGet", "port"]),
        "http"
    );
    let port = container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("http"))
        .and_then(|p| p["containerPort"].as_u64())
        .expect("a port named http");
    let env = container["env"].as_sequence().unwrap();
    let plain: Vec<(String, String)> = env
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    let listen = &plain
        .iter()
        .find(|(k, _)| k == "NEWSALERT__HTTP__LISTEN")
        .unwrap()
        .1;
    assert!(listen.ends_with(&format!(":{port}")), "{listen} vs {port}");
    // The rules cache is on a writable volume (the root file system is
    // read-only).
    let cache = &plain
        .iter()
        .find(|(k, _)| k == "NEWSALERT__RULES__CACHE_DIR")
        .expect("a rules cache directory")
        .1;
    let mount = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"].as_str() == Some(cache.as_str()))
        .expect("the rules cache directory is mounted");
    let volume = pod["spec"]["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("its volume");
    assert!(volume["emptyDir"].is_mapping(), "{volume:?}");
    assert_eq!(
        pod["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
        Some(true)
    );

    // Every secret the pod reads exists in the Secret.
    let secret = yaml("deploy/k8s/secret.yaml");
    let mut secrets = Vec::new();
    for e in env.iter().filter(|e| !e["valueFrom"].is_null()) {
        let r = &e["valueFrom"]["secretKeyRef"];
        assert_eq!(r["name"], secret["metadata"]["name"]);
        let key = str_at(r, &["key"]);
        assert!(
            secret["stringData"][key].is_string(),
            "no {key} in the Secret"
        );
        secrets.push((str_at(e, &["name"]).to_string(), "x".to_string()));
    }
    assert!(secrets.len() >= 3, "{secrets:?}");

    // The PodDisruptionBudget and the Service select these pods.
    let labels = &pod["metadata"]["labels"];
    for file in ["deploy/k8s/pdb.yaml", "deploy/k8s/service.yaml"] {
        let selector = &yaml(file)["spec"];
        let selector = selector.get("selector").unwrap();
        let selector = selector.get("matchLabels").unwrap_or(selector);
        for (k, v) in selector.as_mapping().unwrap() {
            assert_eq!(&labels[k.as_str().unwrap()], v, "{file}");
        }
    }
    let kustomization = yaml("deploy/k8s/kustomization.yaml");
    let listed = kustomization["resources"].as_sequence().unwrap().len();
    let files = std::fs::read_dir(repo_path("deploy/k8s")).unwrap().count();
    assert_eq!(listed + 1, files, "kustomization.yaml lists every manifest");

    // The ConfigMap's settings and rules load, mounted as the pod mounts them.
    let config = yaml("deploy/k8s/configmap.yaml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        str_at(&config, &["data", "local.toml"]),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/rules.toml"),
        str_at(&config, &["data", "rules.toml"]),
    )
    .unwrap();
    let env = plain
        .into_iter()
        .chain(secrets)
        .filter(|(k, _)| k.starts_with("NEWSALERT__"))
        .collect();
    let settings = settings_load(dir.path(), env);
    let book = RuleBook::load(&settings.rules_path(), &Gazetteer::builtin()).expect("rules load");
    assert!(!book.rules.is_empty());
}

#[test]
fn compose_file_runs_jetstream_with_a_volume_and_settings_that_load() {
    let compose = yaml("deploy/docker-compose.yml");
    let services = &compose["services"];
    let nats = &services["nats"];
    let command: Vec<&str> = nats["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(command.contains(&"--jetstream"), "{command:?}");
    let volume = nats["volumes"][0].as_str().unwrap();
    let (name, mount) = volume.split_once(':').unwrap();
    assert!(compose["volumes"].get(name).is_some(), "{name} is declared");
    assert_eq!(
        command[command.iter().position(|c| *c == "--store_dir").unwrap() + 1],
        mount
    );
    assert!(
        services["mailpit"]["image"]
            .as_str()
            .unwrap()
            .contains("mailpit")
    );

    let newsalert = &services["newsalert"];
    assert_eq!(
        str_at(newsalert, &["build", "dockerfile"]),
        "deploy/Dockerfile"
    );
    assert!(
        newsalert["volumes"][0]
            .as_str()
            .unwrap()
            .starts_with("../config:")
    );
    // `${VAR:-}` is empty when unset, as compose substitutes it.
    let env: Vec<(String, String)> = newsalert["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().unwrap();
            let v = if v.starts_with("${") { "" } else { v };
            (k.as_str().unwrap().to_string(), v.to_string())
        })
        .collect();
    let settings = settings_load(&repo_path("config"), env);
    assert_eq!(settings.smtp.host, "mailpit");
    let port = settings.http.listen.rsplit(':').next().unwrap();
    assert!(
        newsalert["ports"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}"))
    );
}

#[test]
fn nats_configs_pass_the_servers_config_test() {
    for file in [
        "deploy/nats-server.conf",
        "deploy/nats-cluster/nats-1.conf",
        "deploy/nats-cluster/nats-2.conf",
        "deploy/nats-cluster/nats-3.conf",
    ] {
        let out = Command::new(nats_server_bin())
            .arg("-t")
            .arg("-c")
            .arg(repo_path(file))
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {out:?}");
    }
}

#[test]
fn dockerfile_runs_the_binary_alone_as_a_non_root_user() {
    let text = std::fs::read_to_string(repo_path("deploy/Dockerfile")).unwrap();
    let stages: Vec<&str> = text.split("\nFROM ").skip(1).collect();
    assert_eq!(stages.len(), 2, "a build and a runtime stage");
    // The build stage has every input of `cargo build` (no container
    // engine here to try it).
    let build_copies: String = stages[0]
        .lines()
        .filter(|l| l.starts_with("COPY "))
        .collect::<Vec<_>>()
        .join("\n");
    for input in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src",
        "config",
        "benches",
    ] {
        assert!(
            build_copies.contains(&format!(" {input} "))
                || build_copies.contains(&format!(" {input}\n")),
            "the build stage copies {input}: {build_copies}"
        );
    }
    let runtime = stages[1];
    let copies: Vec<&str> = runtime.lines().filter(|l| l.starts_with("COPY")).collect();
    assert_eq!(
        copies.len(),
        2,
        "only the binary and default.toml: {copies:?}"
    );
    assert!(
        copies
            .iter()
            .any(|c| c.ends_with("/usr/local/bin/newsalert"))
    );
    assert!(
        copies
            .iter()
            .any(|c| c.ends_with("/etc/newsalert/default.toml"))
    );
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    assert!(runtime.contains("EXPOSE 9464") && runtime.contains("0.0.0.0:9464"));
}

/// `systemd-analyze verify` on the unit, with ExecStart pointing at the
/// binary just built; skipped (with a note) where systemd is not installed.
#[test]
fn systemd_unit_verifies() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze not installed; skipped");
        return;
    };
    assert!(probe.status.success());
    let unit = std::fs::read_to_string(repo_path("deploy/newsalert.service")).unwrap();
    let unit = unit.replace("/usr/local/bin/newsalert", env!("CARGO_BIN_EXE_newsalert"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newsalert.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only complaints about this unit count (the host's own units may have some).
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("newsalert.service"))
        .collect();
    assert!(out.status.success() && ours.is_empty(), "{stderr}");
}
