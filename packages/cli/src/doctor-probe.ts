import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Python run inside the worker's environment: what is installed and which energy paths work. */
const PROBE = `
import json, os, glob, platform, importlib.util
from importlib import metadata
def version(name):
    try: return metadata.version(name)
    except Exception: return None
out = {"python": platform.python_version(), "packages": {}}
for name in ["torch", "transformers", "accelerate", "datasets", "codecarbon", "nvidia-ml-py", "zeus", "bitsandbytes", "joules-worker"]:
    out["packages"][name] = version(name)
try:
    import torch
    out["cuda_available"] = bool(torch.cuda.is_available())
    out["cuda_version"] = torch.version.cuda
    out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if out["cuda_available"] else []
except Exception as e:
    out["torch_error"] = str(e)
try:
    import pynvml
    pynvml.nvmlInit()
    out["nvml"] = {"ok": True, "driver": pynvml.nvmlSystemGetDriverVersion(), "devices": pynvml.nvmlDeviceGetCount()}
    pynvml.nvmlShutdown()
except Exception as e:
    out["nvml"] = {"ok": False, "error": type(e).__name__ + ": " + str(e)}
rapl = sorted(glob.glob("/sys/class/powercap/intel-rapl:*/energy_uj"))
out["rapl"] = {"zones": len(rapl), "readable": any(os.access(p, os.R_OK) for p in rapl)}
print(json.dumps(out))
`;

export interface ProbeResult {
  python: string;
  packages: Record<string, string | null>;
  cuda_available?: boolean;
  cuda_version?: string | null;
  gpus?: string[];
  torch_error?: string;
  nvml: { ok: boolean; driver?: string; devices?: number; error?: string };
  rapl: { zones: number; readable: boolean };
}

export async function probeWorkerEnv(python: string): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(python, ['-c', PROBE], { timeout: 120_000, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult;
}
