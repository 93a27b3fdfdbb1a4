// The injector as it runs on Kubernetes: built into its image by scripts/build-image.sh,
// imported into the real containerd, started through the CRI with the DaemonSet's own settings
// (read from deploy/kubernetes/injector-daemonset.yaml: hostPID, hostNetwork, capabilities,
// read-only root, seccomp, its mounts and flags), connected to a controller, and faulting a
// neighbouring pod, measured from the host.
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "container_fixture.h"
#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;
const std::string kImage = "faultline.local/faultline:test";

// The host paths the DaemonSet mounts, mapped to what this test gives them.
struct HostPaths {
  std::string state, cri_socket;
};

// The DaemonSet's container as a CRI container: the same command and flags (with the
// controller, node and TLS of this test), security context and mounts. The policy and TLS
// secrets are not part of this test: their mounts and flags are left out (--insecure).
PodContainer injector_from_manifest(const YAML::Node& pod, const HostPaths& host,
                                    const std::string& controller, const std::string& node,
                                    int metrics_port, TempDir& dir) {
  const YAML::Node c = pod["containers"][0];
  PodContainer out{"injector", {}, {}};
  out.image = kImage;
  for (const auto& a : c["command"]) out.argv.push_back(a.as<std::string>());
  for (const auto& a : c["args"]) {
    std::string arg = a.as<std::string>();
    if (arg.starts_with("--controller=")) arg = "--controller=" + controller;
    if (arg.starts_with("--node=")) arg = "--node=" + node;
    if (arg == "--label=node=$(NODE_NAME)") arg = "--label=node=" + node;
    if (arg.starts_with("--tls-dir=")) arg = "--insecure";
    if (arg.starts_with("--policy=")) continue;
    if (arg.starts_with("--metrics-listen="))
      arg = "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port);
    out.argv.push_back(arg);
  }
  for (const auto& e : c["env"])
    if (e["value"]) out.env.emplace_back(e["name"].as<std::string>(), e["value"].as<std::string>());
  const YAML::Node sc = c["securityContext"];
  for (const auto& cap : sc["capabilities"]["add"])
    out.add_capabilities.push_back(cap.as<std::string>());
  for (const auto& cap : sc["capabilities"]["drop"])
    out.drop_capabilities.push_back(cap.as<std::string>());
  out.readonly_rootfs = sc["readOnlyRootFilesystem"].as<bool>(false);
  out.seccomp_runtime_default =
      pod["securityContext"]["seccompProfile"]["type"].as<std::string>("") == "RuntimeDefault";
  std::map<std::string, std::string> volumes;  // name -> host path
  for (const auto& v : pod["volumes"]) {
    std::string name = v["name"].as<std::string>();
    if (v["hostPath"]) {
      std::string path = v["hostPath"]["path"].as<std::string>();
      if (path == "/var/lib/faultline") path = host.state;
      if (path == "/run/containerd/containerd.sock") path = host.cri_socket;
      std::string type = v["hostPath"]["type"].as<std::string>("");
      if (type == "DirectoryOrCreate") fs::create_directories(path);
      if (type == "FileOrCreate" && !fs::exists(path)) std::ofstream(path).flush();
      volumes[name] = path;
    } else if (v["emptyDir"]) {
      volumes[name] = dir.file("emptydir-" + name);
      fs::create_directories(volumes[name]);
    }
  }
  for (const auto& m : c["volumeMounts"]) {
    auto it = volumes.find(m["name"].as<std::string>());
    if (it == volumes.end()) continue;  // policy, tls
    out.mounts.push_back({it->second, m["mountPath"].as<std::string>(),
                          m["readOnly"].as<bool>(false),
                          m["mountPropagation"].as<std::string>("") == "HostToContainer"});
  }
  return out;
}

TEST_F(ContainerTargets, TheInjectorFromItsImageFaultsANeighbourPodWithTheDaemonSetsSettings) {
  TempDir dir;
  std::string build = fs::path(FAULTLINE_BIN_DIR).parent_path().string();
  std::string tar = dir.file("faultline-image.tar"), out;
  ASSERT_EQ(run_capture(std::string(FAULTLINE_SOURCE_DIR) + "/scripts/build-image.sh --build " +
                            build + " --tag " + kImage + " --out " + tar,
                        &out),
            0)
      << out;
  std::string ctr = "ctr -a " + rig_.cri_socket + " -n k8s.io ";
  ASSERT_EQ(run_capture(ctr + "images import " + tar, &out), 0) << out;
  struct RemoveImage {
    std::string cmd;
    ~RemoveImage() {
      std::string ignored;
      run_capture(cmd, &ignored);
    }
  } remove_image{ctr + "images rm " + kImage};

  YAML::Node ds = YAML::LoadFile(std::string(FAULTLINE_SOURCE_DIR) +
                                 "/deploy/kubernetes/injector-daemonset.yaml");
  const YAML::Node pod_spec = ds["spec"]["template"]["spec"];
  ASSERT_TRUE(pod_spec["hostPID"].as<bool>(false) && pod_spec["hostNetwork"].as<bool>(false));
  ASSERT_FALSE(pod_spec["containers"][0]["securityContext"]["privileged"].as<bool>(false));

  // A controller on the host's loopback, which the injector reaches over hostNetwork.
  std::string controller = "127.0.0.1:" + std::to_string(free_port());
  CliEnvironment env(dir.path(), rig_.cri_socket, "");
  ChildProcess ctl({std::string(FAULTLINE_BIN_DIR) + "/faultline-controller", "--listen",
                    controller, "--insecure"},
                   "", dir.file("controller.log"));
  std::string node = "image-node-" + std::to_string(getpid());
  HostPaths host{dir.file("node-state"), rig_.cri_socket};
  PodContainer injector =
      injector_from_manifest(pod_spec, host, controller, node, free_port(), dir);
  auto injector_pod = run_pod(rig_, unique("faultline-injector"), {{"app", "faultline-injector"}},
                              {injector}, /*host_namespaces=*/true);
  ASSERT_TRUE(injector_pod) << injector_pod.error().message;
  pods_.push_back(injector_pod->id);
  FaultlineCli cli(FAULTLINE_BIN_DIR, dir, {"--insecure"});
  ASSERT_TRUE(cli.wait_connected(controller, node, {}, 30s))
      << "the injector in its pod did not connect: "
      << container_state(rig_, injector_pod->container_ids["injector"]) << "\n"
      << read_file(dir.file("controller.log")) << "\nfaultline injectors: " << cli.out()
      << cli.err();

  std::string app = unique("neighbour");
  TestPod neighbour = pod(app, {{"app", app}});
  ASSERT_FALSE(neighbour.ip.empty());
  std::string exp = dir.file("delay.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: image-delay}\n"
             "targets:\n  web:\n    pod: {namespace: faultline-test, labels: {app: " +
                 app +
                 "}}\n"
                 "faults:\n  - {name: slow, kind: network_delay, target: web, duration: 4s, "
                 "params: {delay: 80ms}}\n");
  auto run = cli.start({"run", exp, "--controller", controller});
  EXPECT_TRUE(wait_until([&] { return ping(neighbour.ip, 3).median_ms >= 80.0; }, 15s))
      << "no delay in the neighbour pod: " << read_file(dir.file("out.txt"))
      << read_file(dir.file("err.txt"));
  ASSERT_EQ(run->wait(60s), 0) << read_file(dir.file("out.txt")) << read_file(dir.file("err.txt"));
  EXPECT_NE(read_file(dir.file("out.txt")).find("(in pod faultline-test/" + app + " "),
            std::string::npos)
      << read_file(dir.file("out.txt"));
  EXPECT_LT(ping(neighbour.ip, 5).median_ms, 20.0) << "the delay outlived the run";
}

}  // namespace
}  // namespace faultline::testing
