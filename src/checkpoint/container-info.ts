// What a container checkpoint (podman, CRI-O, Kubernetes) says about its container: config.dump
// (the engine's container config) and spec.dump (the OCI runtime spec), kept next to the images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The container a checkpoint archive came from; every field is absent when the archive does not say. */
export interface ContainerInfo {
  /** 'podman' or 'cri-o' (from spec.dump's annotations) */
  engine?: string;
  id?: string;
  name?: string;
  /** the image the container's root file system came from */
  image?: string;
  imageId?: string;
  /** the OCI runtime (runc, crun) */
  runtime?: string;
  createdAt?: string;
  checkpointedAt?: string;
  /** Kubernetes only: the pod and its namespace */
  pod?: string;
  namespace?: string;
  /** compression of the archive: 'none', 'gzip' or 'zstd' */
  compression?: string;
  /** the archive's other members (rootfs-diff.tar, network.status, ...) with their sizes */
  artifacts?: Array<{ name: string; bytes: number }>;
}

/** The file a container source writes beside the images: the archive's compression and members. */
export const ARCHIVE_NOTE = 'cryo-container.json';

function readJson(file: string): Record<string, any> | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && !v.startsWith('0001-01-01') ? v : undefined);

/** The container of the images in `dir`, or undefined when there is no config.dump nor spec.dump. */
export function readContainerInfo(dir: string): ContainerInfo | undefined {
  const config = readJson(join(dir, 'config.dump'));
  const spec = readJson(join(dir, 'spec.dump'));
  if (!config && !spec) return undefined;
  const ann: Record<string, unknown> = spec?.annotations && typeof spec.annotations === 'object' ? spec.annotations : {};
  const crio = Object.keys(ann).some((k) => k.startsWith('io.kubernetes.cri-o.'));
  const info: ContainerInfo = {
    engine: ann['io.container.manager'] === 'libpod' ? 'podman' : crio ? 'cri-o' : undefined,
    id: str(config?.id),
    name: str(config?.name) ?? str(ann['io.kubernetes.container.name']),
    image: str(config?.rootfsImageName) ?? str(config?.rootfsImage) ?? str(ann['io.kubernetes.cri-o.ImageName']),
    imageId: str(config?.rootfsImageRef) ?? str(config?.rootfsImageID),
    runtime: str(config?.runtime) ?? str(config?.ociRuntime),
    createdAt: str(config?.createdTime),
    checkpointedAt: str(config?.checkpointedTime),
    pod: str(ann['io.kubernetes.pod.name']),
    namespace: str(ann['io.kubernetes.pod.namespace']),
  };
  const note = readJson(join(dir, ARCHIVE_NOTE));
  if (note) {
    info.compression = str(note.compression);
    if (Array.isArray(note.artifacts)) info.artifacts = note.artifacts;
  }
  for (const k of Object.keys(info) as Array<keyof ContainerInfo>) if (info[k] === undefined) delete info[k];
  return info;
}
