"""The GPU part of `npm run gpu-check` (see docs/gpu-validation.md): Python only, no network."""
