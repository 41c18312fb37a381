import { Construct, CronJobV1, DeploymentV1, PodDisruptionBudgetV1, ServiceV1 } from "./cdktf.js";
import type { Resources } from "../environments/schema.js";
import { Connections, type IConnectable } from "./connections.js";
import { produced as lazy } from "./produced.js";
import type { ComponentKind, HardeningFact, TopologyModel } from "./model.js";
import type { Zone } from "./zone.js";
import { ConstructError } from "./errors.js";

/** A documented, visible opt-out from a secure default (style: every opt-out explicit). */
export interface OptOut {
  /** Why the default cannot hold here (≥ 20 characters; it shows in diffs and reports). */
  readonly reason: string;
}

export interface HardenedWorkloadProps {
  readonly model: TopologyModel;
  readonly zone: Zone;
  /** Pod network of the site (firewall matrix). */
  readonly podCidr: string;
  readonly kind: ComponentKind;
  /** Kubernetes name, unique in its namespace. */
  readonly name: string;
  /** Image reference; outside dev the policy requires a digest. No default. */
  readonly image: string;
  readonly args: string[];
  /** pki-services role, when the image is pki-services. */
  readonly role?: string;
  /** No default: sizing is the environment's decision. */
  readonly replicas: number;
  readonly resources: Resources;
  /** Ports served (a Service is created when there are any). @default [] */
  readonly ports?: { name: string; port: number }[];
  /** Cron schedule: the workload runs as a CronJob instead of a Deployment. */
  readonly schedule?: string;
  /** Warm standby at the backup site. @default false */
  readonly standby?: boolean;
  /** Uses a CA or OCSP key. @default false */
  readonly signing?: boolean;
  /** Meant to be reached from the internet (the repository, the OCSP responder, the RA's
   *  applicant pages): recorded in the model, where the policy refuses an internet flow into a
   *  workload without it (LCA-NET-06). @default false */
  readonly internetFacing?: boolean;
  /** The issuing CA served. */
  readonly ca?: string;
  /** Opt-out: writable root filesystem. @default undefined (read-only root filesystem) */
  readonly writableRootFilesystem?: OptOut;
  /** Opt-out: mount the service account token. @default undefined (not mounted) */
  readonly serviceAccountToken?: OptOut;
}

type EnvVar = { name: string; value?: string; secret?: { name: string; key: string } };
type Volume = {
  name: string;
  mountPath: string;
  readOnly: boolean;
  source: { secret: string } | { configMap: string } | { pvc: string } | { emptyDir: string };
};

const USER_ID = 10001;

const DIGEST = /@sha256:[a-f0-9]{64}$/;

/**
 * A pod that runs with every secure default (Pod Security Standards "restricted" and more):
 * non-root, read-only root filesystem, no privilege escalation, all capabilities dropped,
 * seccomp RuntimeDefault, no service-account token, requests and limits, spread over nodes and a
 * PodDisruptionBudget when replicated. Opting out takes an explicit prop with a reason.
 * Grants (`partition.grantSign(w)`, `database.grantReadWrite(w)`) add mounts and env through
 * `addEnv` / `addVolume` until synthesis.
 */
export class HardenedWorkload extends Construct implements IConnectable {
  readonly connections: Connections;
  readonly componentId: string;
  readonly labels: Record<string, string>;
  readonly namespace: string;
  private readonly env: EnvVar[] = [];
  private readonly volumes: Volume[] = [];

  constructor(
    scope: Construct,
    id: string,
    readonly props: HardenedWorkloadProps,
  ) {
    super(scope, id);
    if (!Number.isInteger(props.replicas) || props.replicas < 0) throw new ConstructError(`'replicas' (${props.replicas}) must be a whole number ≥ 0`, this);
    for (const [prop, optOut] of [
      ["writableRootFilesystem", props.writableRootFilesystem],
      ["serviceAccountToken", props.serviceAccountToken],
    ] as const)
      if (optOut && optOut.reason.trim().length < 20) throw new ConstructError(`opt-out '${prop}' needs a reason of at least 20 characters (got '${optOut.reason}')`, this);
    const site = props.zone.site;
    this.componentId = `${site}/${props.name}`;
    this.namespace = props.zone.namespace;
    this.labels = {
      "app.kubernetes.io/name": props.name,
      "app.kubernetes.io/part-of": "lanic-ca",
      "lanic-ca.gov.la/component": props.kind,
    };
    this.connections = new Connections(this, {
      model: props.model,
      componentId: this.componentId,
      name: props.name,
      zone: props.zone,
      podLabels: this.labels,
      podCidr: props.podCidr,
    });
    this.addVolume("tmp", "/tmp", { emptyDir: "64Mi" }, false);

    const replicated = !props.schedule && props.replicas >= 2;
    const podSpec = this.podSpec(replicated);
    const metadata = { name: props.name, namespace: this.namespace, labels: this.labels };
    if (props.schedule) {
      new CronJobV1(this, "cronjob", {
        metadata,
        spec: {
          schedule: props.schedule,
          concurrencyPolicy: "Forbid",
          suspend: props.standby ?? false,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels: this.labels },
            spec: { backoffLimit: 2, template: { metadata: { labels: this.labels }, spec: { ...podSpec, restartPolicy: "OnFailure" } } },
          },
        },
      });
    } else {
      new DeploymentV1(this, "deployment", {
        metadata,
        waitForRollout: false,
        spec: {
          replicas: String(props.replicas),
          selector: { matchLabels: this.labels },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "0", maxSurge: "1" } },
          template: { metadata: { labels: this.labels }, spec: podSpec },
        },
      });
    }
    const ports = props.ports ?? [];
    if (ports.length > 0)
      new ServiceV1(this, "service", {
        metadata,
        spec: {
          type: "ClusterIP",
          selector: this.labels,
          port: ports.map((p) => ({ name: p.name, port: p.port, targetPort: String(p.port), protocol: "TCP" })),
        },
      });
    if (replicated)
      new PodDisruptionBudgetV1(this, "pdb", {
        metadata,
        spec: { minAvailable: "1", selector: { matchLabels: this.labels } },
      });

    const optOuts = [
      ...(props.writableRootFilesystem ? [{ prop: "writableRootFilesystem", reason: props.writableRootFilesystem.reason }] : []),
      ...(props.serviceAccountToken ? [{ prop: "serviceAccountToken", reason: props.serviceAccountToken.reason }] : []),
    ];
    const hardening: HardeningFact = {
      runAsNonRoot: true,
      readOnlyRootFilesystem: !props.writableRootFilesystem,
      allowPrivilegeEscalation: false,
      capabilitiesDropAll: true,
      seccompRuntimeDefault: true,
      automountServiceAccountToken: !!props.serviceAccountToken,
      resourcesSet: true,
      imageByDigest: DIGEST.test(props.image),
      optOuts,
    };
    props.model.components.push({
      id: this.componentId,
      kind: props.kind,
      name: props.name,
      site,
      zone: props.zone.zone,
      path: this.node.path,
      runsAs: props.schedule ? "CronJob" : "Deployment",
      image: props.image,
      role: props.role,
      replicas: props.replicas,
      standby: props.standby ?? false,
      online: !props.schedule,
      signing: props.signing ?? false,
      ...(props.internetFacing ? { internetFacing: true as const } : {}),
      pdb: replicated,
      spread: replicated,
      hardening,
      ca: props.ca,
      schedule: props.schedule,
    });
    this.connections.allowDns();
  }

  /** Adds an environment variable, literal or from a Secret key (the value never enters the IaC). */
  addEnv(name: string, from: { value: string } | { secret: string; key: string }): void {
    if (this.env.some((e) => e.name === name)) throw new ConstructError(`environment variable '${name}' is set twice`, this);
    this.env.push("value" in from ? { name, value: from.value } : { name, secret: { name: from.secret, key: from.key } });
  }

  /** Mounts a Secret, ConfigMap, PVC or emptyDir. */
  addVolume(name: string, mountPath: string, source: Volume["source"], readOnly = true): void {
    const volume = { name, mountPath, readOnly, source };
    const existing = this.volumes.find((v) => v.name === name);
    if (existing) {
      // The same mount twice (e.g. two grants of one partition) mounts once; anything else is a clash.
      if (JSON.stringify(existing) === JSON.stringify(volume)) return;
      throw new ConstructError(`volume '${name}' is mounted twice, differently (${existing.mountPath} and ${mountPath})`, this);
    }
    this.volumes.push(volume);
  }

  // The grants run after the constructor: env, mounts and volumes are produced lazily, in the
  // provider's Terraform (snake_case) form, when the stack is synthesized.
  private podSpec(replicated: boolean) {
    const props = this.props;
    const env = lazy(() =>
      [...this.env].sort((a, b) => (a.name < b.name ? -1 : 1)).map((e) => (e.secret ? { name: e.name, value_from: [{ secret_key_ref: [{ name: e.secret.name, key: e.secret.key }] }] } : { name: e.name, value: e.value })),
    );
    const volumeMount = lazy(() => this.volumes.map((v) => ({ name: v.name, mount_path: v.mountPath, read_only: v.readOnly })));
    const volume = lazy(() =>
      this.volumes.map((v) => {
        const s = v.source;
        if ("secret" in s) return { name: v.name, secret: [{ secret_name: s.secret, default_mode: "0440" }] };
        if ("configMap" in s) return { name: v.name, config_map: [{ name: s.configMap }] };
        if ("pvc" in s) return { name: v.name, persistent_volume_claim: [{ claim_name: s.pvc, read_only: v.readOnly }] };
        return { name: v.name, empty_dir: [{ size_limit: s.emptyDir }] };
      }),
    );
    const ports = props.ports ?? [];
    // A TCP probe: the signing services serve mTLS and a kubelet probe presents no client
    // certificate; an HSM outage is answered with 503 by the service itself.
    const health = ports[0] ? { tcpSocket: [{ port: String(ports[0].port) }], periodSeconds: 10, timeoutSeconds: 2 } : undefined;
    return {
      automountServiceAccountToken: !!props.serviceAccountToken,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: String(USER_ID),
        runAsGroup: String(USER_ID),
        fsGroup: String(USER_ID),
        seccompProfile: { type: "RuntimeDefault" },
      },
      container: [
        {
          name: props.name,
          image: props.image,
          imagePullPolicy: DIGEST.test(props.image) ? "IfNotPresent" : "Always",
          args: props.args,
          port: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
          env: env as never,
          volumeMount: volumeMount as never,
          resources: {
            requests: { cpu: props.resources.cpu, memory: props.resources.memory },
            limits: { cpu: props.resources.cpuLimit, memory: props.resources.memoryLimit },
          },
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: !props.writableRootFilesystem,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          ...(health ? { readinessProbe: health, livenessProbe: { ...health, failureThreshold: 6 } } : {}),
        },
      ],
      volume: volume as never,
      ...(replicated
        ? {
            topologySpreadConstraint: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: [{ matchLabels: this.labels }] }],
          }
        : {}),
    };
  }
}
