#!/usr/bin/python3
"""Minimal CRI (runtime.v1.RuntimeService) client for the Faultline test rig.

Debian 12 has no cri-tools (crictl) package and no grpcurl, so this talks to the
CRI socket with Debian's python3-grpcio + python3-protobuf, using the proto
SUBSET in proto/k8s/cri/runtime/v1/api.proto (compiled at run time with
protoc from protobuf-compiler into a temporary directory). Running it against a
real containerd is also the wire-compatibility check of that subset.

Run with /usr/bin/python3 (Debian's; a pyenv python will not see python3-grpcio).

  cri.py --sock SOCK version | status
  cri.py --sock SOCK runp --name N [--namespace NS] [--uid U] [--label k=v]... [--cgroup-parent P] [--log-dir D]
  cri.py --sock SOCK create --pod POD_ID --name N --image IMG [--label k=v]... -- CMD [ARG...]
  cri.py --sock SOCK run    <runp options> --cname N --image IMG [--clabel k=v]... -- CMD [ARG...]
  cri.py --sock SOCK start|stop|rm CONTAINER_ID      (stop: [--timeout S])
  cri.py --sock SOCK stopp|rmp POD_ID
  cri.py --sock SOCK pods [--label k=v]... [--state ready|notready] [-q]
  cri.py --sock SOCK ps   [--label k=v]... [--pod ID] [--state created|running|exited|unknown] [-q]
  cri.py --sock SOCK inspectp POD_ID     (verbose PodSandboxStatus, info JSON decoded)
  cri.py --sock SOCK inspect CONTAINER_ID (verbose ContainerStatus, info JSON decoded)
  cri.py --sock SOCK rmall               (stop+remove every container and pod)
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROTO_ROOT = os.path.join(REPO, "proto")
PROTO_REL = "k8s/cri/runtime/v1/api.proto"


def load_pb2():
    out = tempfile.mkdtemp(prefix="fl-cri-pb2-")
    try:
        subprocess.run(["protoc", "-I", PROTO_ROOT, "--python_out", out, PROTO_REL], check=True)
        path = os.path.join(out, PROTO_REL.replace(".proto", "_pb2.py"))
        spec = importlib.util.spec_from_file_location("cri_api_pb2", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        shutil.rmtree(out, ignore_errors=True)


import grpc  # noqa: E402  (python3-grpcio)
from google.protobuf import json_format  # noqa: E402  (python3-protobuf)

pb = load_pb2()

RPCS = {
    "Version": ("VersionRequest", "VersionResponse"),
    "Status": ("StatusRequest", "StatusResponse"),
    "RunPodSandbox": ("RunPodSandboxRequest", "RunPodSandboxResponse"),
    "StopPodSandbox": ("StopPodSandboxRequest", "StopPodSandboxResponse"),
    "RemovePodSandbox": ("RemovePodSandboxRequest", "RemovePodSandboxResponse"),
    "PodSandboxStatus": ("PodSandboxStatusRequest", "PodSandboxStatusResponse"),
    "ListPodSandbox": ("ListPodSandboxRequest", "ListPodSandboxResponse"),
    "CreateContainer": ("CreateContainerRequest", "CreateContainerResponse"),
    "StartContainer": ("StartContainerRequest", "StartContainerResponse"),
    "StopContainer": ("StopContainerRequest", "StopContainerResponse"),
    "RemoveContainer": ("RemoveContainerRequest", "RemoveContainerResponse"),
    "ListContainers": ("ListContainersRequest", "ListContainersResponse"),
    "ContainerStatus": ("ContainerStatusRequest", "ContainerStatusResponse"),
}


class Runtime:
    def __init__(self, sock, timeout):
        self.channel = grpc.insecure_channel("unix://" + sock)
        self.timeout = timeout
        for name, (req, resp) in RPCS.items():
            stub = self.channel.unary_unary(
                "/runtime.v1.RuntimeService/" + name,
                request_serializer=getattr(pb, req).SerializeToString,
                response_deserializer=getattr(pb, resp).FromString,
            )
            setattr(self, "_" + name, stub)

    def call(self, name, **fields):
        req = getattr(pb, RPCS[name][0])(**fields)
        return getattr(self, "_" + name)(req, timeout=self.timeout)


def kv(items):
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise SystemExit("expected key=value, got %r" % it)
        out[k] = v
    return out


def to_dict(msg):
    return json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                     including_default_value_fields=False)


def decode_info(info):
    out = {}
    for k, v in info.items():
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def pod_config(a):
    uid = a.uid or str(uuid.uuid4())
    cfg = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=a.name, uid=uid, namespace=a.namespace, attempt=0),
        hostname=a.hostname or a.name,
        log_directory=a.log_dir or "",
        labels=kv(a.label),
        annotations=kv(a.annotation),
        linux=pb.LinuxPodSandboxConfig(
            # kubelet style: <parent>/pod<uid>; containers go below it
            cgroup_parent=(a.cgroup_parent.rstrip("/") + "/pod" + uid) if a.cgroup_parent else "",
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)),
        ),
    )
    return cfg


def container_config(name, image, labels, annotations, argv, log_dir):
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=0),
        image=pb.ImageSpec(image=image),
        command=argv[:1],
        args=argv[1:],
        labels=labels,
        annotations=annotations,
        log_path=(name + "/0.log") if log_dir else "",
        # like kubelet for a pod without shareProcessNamespace: own PID
        # namespace per container, network and IPC shared with the pod
        linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD))),
    )


def sandbox_config_of(rt, pod_id):
    """Rebuild the PodSandboxConfig from containerd's verbose info (info.config)."""
    st = rt.call("PodSandboxStatus", pod_sandbox_id=pod_id, verbose=True)
    info = decode_info(st.info).get("info", {})
    cfg = pb.PodSandboxConfig()
    if isinstance(info, dict) and isinstance(info.get("config"), dict):
        json_format.ParseDict(info["config"], cfg, ignore_unknown_fields=True)
    else:  # minimal fallback
        cfg.metadata.CopyFrom(st.status.metadata)
        cfg.labels.update(st.status.labels)
        cfg.annotations.update(st.status.annotations)
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sock", default=os.environ.get("CONTAINERD_ADDRESS", "/run/faultline-test/containerd.sock"))
    ap.add_argument("--timeout", type=float, default=60.0, help="per-RPC deadline, seconds")
    sub = ap.add_subparsers(dest="cmd", required=True)

    sub.add_parser("version")
    sub.add_parser("status")

    def pod_opts(p):
        p.add_argument("--name", required=True)
        p.add_argument("--namespace", default="default")
        p.add_argument("--uid", default="")
        p.add_argument("--hostname", default="")
        p.add_argument("--label", action="append")
        p.add_argument("--annotation", action="append")
        p.add_argument("--cgroup-parent", default="")
        p.add_argument("--log-dir", default="")

    pod_opts(sub.add_parser("runp"))
    p = sub.add_parser("create")
    p.add_argument("--pod", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--label", action="append")
    p.add_argument("--annotation", action="append")
    p.add_argument("argv", nargs="+")
    p = sub.add_parser("run")
    pod_opts(p)
    p.add_argument("--cname", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--clabel", action="append")
    p.add_argument("argv", nargs="+")
    for c in ("start", "rm", "inspect"):
        sub.add_parser(c).add_argument("id")
    p = sub.add_parser("stop")
    p.add_argument("id")
    p.add_argument("--timeout", dest="grace", type=int, default=0)
    for c in ("stopp", "rmp", "inspectp"):
        sub.add_parser(c).add_argument("id")
    p = sub.add_parser("pods")
    p.add_argument("--label", action="append")
    p.add_argument("--state", choices=["ready", "notready"])
    p.add_argument("-q", action="store_true")
    p = sub.add_parser("ps")
    p.add_argument("--label", action="append")
    p.add_argument("--pod", default="")
    p.add_argument("--state", choices=["created", "running", "exited", "unknown"])
    p.add_argument("-q", action="store_true")
    sub.add_parser("rmall")
    a = ap.parse_args()

    rt = Runtime(a.sock, a.timeout)
    pr = lambda obj: print(json.dumps(obj, indent=2, sort_keys=True))  # noqa: E731

    if a.cmd == "version":
        pr(to_dict(rt.call("Version", version="v1")))
    elif a.cmd == "status":
        r = rt.call("Status", verbose=False)
        pr(to_dict(r))
        ok = {c.type: c.status for c in r.status.conditions}
        return 0 if ok.get("RuntimeReady") and ok.get("NetworkReady") else 1
    elif a.cmd == "runp":
        print(rt.call("RunPodSandbox", config=pod_config(a)).pod_sandbox_id)
    elif a.cmd == "create":
        sb = sandbox_config_of(rt, a.pod)
        cc = container_config(a.name, a.image, kv(a.label), kv(a.annotation), a.argv, sb.log_directory)
        print(rt.call("CreateContainer", pod_sandbox_id=a.pod, config=cc, sandbox_config=sb).container_id)
    elif a.cmd == "run":
        sb = pod_config(a)
        pod_id = rt.call("RunPodSandbox", config=sb).pod_sandbox_id
        cc = container_config(a.cname, a.image, kv(a.clabel), {}, a.argv, sb.log_directory)
        cid = rt.call("CreateContainer", pod_sandbox_id=pod_id, config=cc, sandbox_config=sb).container_id
        rt.call("StartContainer", container_id=cid)
        pr({"pod_id": pod_id, "container_id": cid})
    elif a.cmd == "start":
        rt.call("StartContainer", container_id=a.id)
    elif a.cmd == "stop":
        rt.call("StopContainer", container_id=a.id, timeout=a.grace)
    elif a.cmd == "rm":
        rt.call("RemoveContainer", container_id=a.id)
    elif a.cmd == "stopp":
        rt.call("StopPodSandbox", pod_sandbox_id=a.id)
    elif a.cmd == "rmp":
        rt.call("RemovePodSandbox", pod_sandbox_id=a.id)
    elif a.cmd == "inspectp":
        r = rt.call("PodSandboxStatus", pod_sandbox_id=a.id, verbose=True)
        pr({"status": to_dict(r.status), "info": decode_info(r.info)})
    elif a.cmd == "inspect":
        r = rt.call("ContainerStatus", container_id=a.id, verbose=True)
        pr({"status": to_dict(r.status), "info": decode_info(r.info)})
    elif a.cmd == "pods":
        f = pb.PodSandboxFilter(label_selector=kv(a.label))
        if a.state:
            f.state.state = pb.SANDBOX_READY if a.state == "ready" else pb.SANDBOX_NOTREADY
        items = rt.call("ListPodSandbox", filter=f).items
        if a.q:
            print("\n".join(i.id for i in items))
        else:
            pr([to_dict(i) for i in items])
    elif a.cmd == "ps":
        f = pb.ContainerFilter(pod_sandbox_id=a.pod, label_selector=kv(a.label))
        if a.state:
            f.state.state = {"created": pb.CONTAINER_CREATED, "running": pb.CONTAINER_RUNNING,
                             "exited": pb.CONTAINER_EXITED, "unknown": pb.CONTAINER_UNKNOWN}[a.state]
        cs = rt.call("ListContainers", filter=f).containers
        if a.q:
            print("\n".join(c.id for c in cs))
        else:
            pr([to_dict(c) for c in cs])
    elif a.cmd == "rmall":
        for c in rt.call("ListContainers", filter=pb.ContainerFilter()).containers:
            rt.call("StopContainer", container_id=c.id, timeout=0)
            rt.call("RemoveContainer", container_id=c.id)
            print("removed container", c.id[:13], file=sys.stderr)
        for s in rt.call("ListPodSandbox", filter=pb.PodSandboxFilter()).items:
            rt.call("StopPodSandbox", pod_sandbox_id=s.id)
            rt.call("RemovePodSandbox", pod_sandbox_id=s.id)
            print("removed pod", s.id[:13], s.metadata.namespace + "/" + s.metadata.name, file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print("cri.py: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        sys.exit(3)
