import { Construct } from "./cdktf.js";
import type { Environment, OfflineRoot } from "../environments/schema.js";
import { caUrls } from "./issuing-ca.js";
import type { TopologyModel } from "./model.js";

export interface OfflineRootEnclaveProps {
  readonly model: TopologyModel;
  readonly env: Environment;
  readonly root: OfflineRoot;
}

/** What the root ceremonies need, derived from the environment (written to
 *  `cdktf.out/ceremonies/<env>/ceremony-inputs.json`). */
export interface CeremonyInputs {
  environment: string;
  cpCps: Environment["cpCps"];
  root: {
    name: string;
    subject: OfflineRoot["subject"];
    keyAlgorithm: OfflineRoot["keyAlgorithm"];
    keyLabel: string;
    validityDays: number;
    caCrlNextUpdateDays: number;
    crlUrl: string;
    caIssuersUrl: string;
    hsm: OfflineRoot["hsm"];
    custodians: OfflineRoot["custodians"];
  };
  intermediates: { name: string; subject: Environment["issuingCas"][number]["subject"]; keyAlgorithm: string; validityDays: number; pathLen: number; crlUrl: string; caIssuersUrl: string; policyOids: string[] }[];
}

/**
 * The offline root CA: an air-gapped machine with its own HSM, opened only by a quorum of key
 * custodians (BR 5.2.2, 6.2.2). It has no network at all, so it creates no Kubernetes resource:
 * it records the root key and HSM in the model (where the policy proves nothing reaches them)
 * and emits the inputs of the root ceremonies.
 */
export class OfflineRootEnclave extends Construct {
  readonly ceremonyInputs: CeremonyInputs;

  constructor(scope: Construct, id: string, props: OfflineRootEnclaveProps) {
    super(scope, id);
    const { model, env, root } = props;
    model.hsms.push({
      name: "offline-root",
      type: "offline",
      vendor: root.hsm.vendor,
      model: root.hsm.model,
      certification: root.hsm.certification,
      pkcs11Library: root.hsm.pkcs11Library,
      attachment: root.hsm.attachment,
      address: root.hsm.address,
      members: [],
      partitions: [{ name: "root", tokenLabel: root.hsm.tokenLabel, serialNumber: root.hsm.serialNumber, pinSecret: null, keys: [root.keyLabel] }],
      path: this.node.path,
    });
    model.keys.push({ label: root.keyLabel, purpose: "root", ca: root.name, algorithm: root.keyAlgorithm, location: { type: "offline-enclave", hsm: "offline-root" } });
    model.components.push({
      id: `${root.site}/${root.name}`,
      kind: "offline-root",
      name: root.name,
      site: root.site,
      zone: "offline",
      path: this.node.path,
      runsAs: "none",
      replicas: 0,
      standby: false,
      online: false,
      signing: true,
      pdb: false,
      spread: false,
    });
    // BR 4.9.7 / 7.2: the root's CRL of CA certificates, re-issued at ceremonies (policy fact).
    const caCrlHours = root.caCrlNextUpdateDays * 24;
    model.schedules.push({ kind: "ca-crl", ca: root.name, intervalHours: caCrlHours, validityHours: caCrlHours, path: this.node.path });
    const rootUrls = caUrls({ env }, root.name);
    const intermediates = env.issuingCas.map((ca) => ({ ca: ca.name, keyAlgorithm: ca.keyAlgorithm, validityDays: root.intermediateValidityDays, pathLen: 0 }));
    model.environment.ceremonies = {
      rootKeyAlgorithm: root.keyAlgorithm,
      rootValidityDays: root.validityDays,
      intermediates,
    };
    this.ceremonyInputs = {
      environment: env.name,
      cpCps: env.cpCps,
      root: {
        name: root.name,
        subject: root.subject,
        keyAlgorithm: root.keyAlgorithm,
        keyLabel: root.keyLabel,
        validityDays: root.validityDays,
        caCrlNextUpdateDays: root.caCrlNextUpdateDays,
        crlUrl: rootUrls.crl,
        caIssuersUrl: rootUrls.caIssuers,
        hsm: root.hsm,
        custodians: root.custodians,
      },
      intermediates: env.issuingCas.map((ca, i) => ({
        name: ca.name,
        subject: ca.subject,
        keyAlgorithm: ca.keyAlgorithm,
        validityDays: intermediates[i].validityDays,
        pathLen: intermediates[i].pathLen,
        crlUrl: rootUrls.crl,
        caIssuersUrl: rootUrls.caIssuers,
        policyOids: [env.cpCps.policyOid],
      })),
    };
  }
}
