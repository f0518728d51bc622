/* The node's configuration files, as pure functions of the plan (no I/O):
 * containerd's config.toml, the CNI bridge conflist, the KubeletConfiguration.
 * Each setting that this machine kind needs is explained where it is set
 * (the facts are in design/domain/real-node.md). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/node.h"

char *node_containerd_config(const node_plan *p, const char *sandbox_image)
{
    const char *d = p->dir;
    return wih_asprintf(
        "# written by wiharness up: this chain's own containerd (never the system one)\n"
        "version = 2\n"
        "root = \"%s/containerd/root\"\n"
        "state = \"%s/containerd/state\"\n"
        "oom_score = 0\n"
        "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\",\n"
        "  \"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.zfs\",\n"
        "  \"io.containerd.tracing.processor.v1.otlp\", \"io.containerd.internal.v1.tracing\"]\n"
        "\n"
        "[grpc]\n"
        "  address = \"%s/containerd/containerd.sock\"\n"
        "[ttrpc]\n"
        "  address = \"%s/containerd/containerd.sock.ttrpc\"\n"
        "[debug]\n"
        "  address = \"\"\n"
        "  level = \"info\"\n"
        "[metrics]\n"
        "  address = \"\"\n"
        "\n"
        "[plugins]\n"
        "  [plugins.\"io.containerd.internal.v1.opt\"]\n"
        "    path = \"%s/containerd/opt\"\n"
        "  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
        "    sandbox_image = \"%s\"\n"
        "    # this machine does not allow lowering oom_score_adj (no CAP_SYS_RESOURCE):\n"
        "    # without this every sandbox fails with runc's \"can't get final child's PID from pipe\"\n"
        "    restrict_oom_score_adj = true\n"
        "    stream_server_address = \"127.0.0.1\"\n"
        "    stream_server_port = \"0\"\n"
        "    enable_selinux = false\n"
        "    disable_apparmor = true\n"
        "    max_container_log_line_size = 16384\n"
        "    [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
        "      snapshotter = \"overlayfs\"\n"
        "      default_runtime_name = \"runc\"\n"
        "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
        "        runtime_type = \"io.containerd.runc.v2\"\n"
        "        [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
        "          Root = \"%s/runc\"\n"
        "          SystemdCgroup = false\n"
        "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
        "      bin_dir = \"/usr/lib/cni\"\n"
        "      conf_dir = \"%s/cni/net.d\"\n"
        "      max_conf_num = 1\n",
        d, d, d, d, d, sandbox_image, d, d);
}

char *node_cni_conflist(const node_plan *p)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "cniVersion", "0.4.0");
    char *name = wih_asprintf("wiharness-%s", p->id);
    cJSON_AddStringToObject(c, "name", name);
    free(name);
    cJSON *plugins = cJSON_AddArrayToObject(c, "plugins");
    cJSON *br = cJSON_CreateObject();
    cJSON_AddStringToObject(br, "type", "bridge");
    cJSON_AddStringToObject(br, "bridge", p->bridge);
    cJSON_AddTrueToObject(br, "isGateway");
    cJSON_AddFalseToObject(br, "isDefaultGateway");
    cJSON_AddFalseToObject(br, "ipMasq"); /* nothing is masqueraded off the machine */
    cJSON_AddTrueToObject(br, "hairpinMode");
    cJSON *ipam = cJSON_AddObjectToObject(br, "ipam");
    cJSON_AddStringToObject(ipam, "type", "host-local");
    char *dd = wih_asprintf("%s/cni/ipam", p->dir);
    cJSON_AddStringToObject(ipam, "dataDir", dd);
    free(dd);
    cJSON *ranges = cJSON_AddArrayToObject(ipam, "ranges");
    cJSON *set = cJSON_CreateArray();
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "subnet", p->subnet);
    cJSON_AddStringToObject(r, "gateway", p->gateway);
    cJSON_AddItemToArray(set, r);
    cJSON_AddItemToArray(ranges, set);
    /* a route only to the bridge's /24: pods reach the host's servers on the
     * bridge address and each other, nothing else */
    cJSON *routes = cJSON_AddArrayToObject(ipam, "routes");
    cJSON *rt = cJSON_CreateObject();
    cJSON_AddStringToObject(rt, "dst", p->subnet);
    cJSON_AddItemToArray(routes, rt);
    cJSON_AddItemToArray(plugins, br);
    char *t = cJSON_Print(c);
    cJSON_Delete(c);
    char *out = wih_asprintf("%s\n", t);
    free(t);
    return out;
}

char *node_kubelet_config(const node_plan *p, const char *ca_file, const char *tls_cert, const char *tls_key,
                          int port, int healthz_port)
{
    const char *d = p->dir;
    return wih_asprintf(
        "# written by wiharness up (see docs/local-backend.md)\n"
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "# the API server reaches the kubelet (logs, exec) on the node IP = the bridge address\n"
        "address: %s\n"
        "port: %d\n"
        "readOnlyPort: 0\n"
        "healthzBindAddress: 127.0.0.1\n"
        "healthzPort: %d\n"
        "tlsCertFile: %s\n"
        "tlsPrivateKeyFile: %s\n"
        "rotateCertificates: false\n"
        "serverTLSBootstrap: false\n"
        "authentication:\n"
        "  anonymous:\n"
        "    enabled: false\n"
        "  webhook:\n"
        "    enabled: true\n"
        "  x509:\n"
        "    clientCAFile: %s\n"
        "authorization:\n"
        "  mode: Webhook\n"
        "containerRuntimeEndpoint: unix://%s/containerd/containerd.sock\n"
        "imageServiceEndpoint: unix://%s/containerd/containerd.sock\n"
        "podLogsDir: %s/pod-logs\n"
        "volumePluginDir: %s/kubelet/volume-plugins\n"
        "# cgroup v1 machines, no systemd: cgroupfs, no QoS hierarchy, nothing reserved\n"
        "cgroupDriver: cgroupfs\n"
        "cgroupsPerQOS: false\n"
        "enforceNodeAllocatable: []\n"
        "failCgroupV1: false\n"
        "failSwapOn: false\n"
        "localStorageCapacityIsolation: false\n"
        "# a shared test machine: never evict, never collect our preloaded images\n"
        "evictionHard:\n"
        "  memory.available: \"1Mi\"\n"
        "  nodefs.available: \"1%%\"\n"
        "  nodefs.inodesFree: \"1%%\"\n"
        "  imagefs.available: \"1%%\"\n"
        "evictionPressureTransitionPeriod: 5s\n"
        "imageGCHighThresholdPercent: 100\n"
        "imageGCLowThresholdPercent: 99\n"
        "# the host's iptables are not ours to change\n"
        "makeIPTablesUtilChains: false\n"
        "serializeImagePulls: false\n"
        "registerNode: true\n"
        "maxPods: 110\n"
        "shutdownGracePeriod: 0s\n"
        "nodeStatusUpdateFrequency: 5s\n"
        "syncFrequency: 10s\n"
        "fileCheckFrequency: 20s\n"
        "resolvConf: /etc/resolv.conf\n",
        p->gateway, port, healthz_port, tls_cert, tls_key, ca_file, d, d, d, d);
}
