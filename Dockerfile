# The image the KubeRay manifests (configs/kuberay/) run: Ray's own image plus this project.
#   CPU: docker build -t serve-translation:0.1.0-cpu .
#   GPU: docker build -t serve-translation:0.1.0-gpu \
#          --build-arg BASE_IMAGE=rayproject/ray:2.60.0-py311-gpu \
#          --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 .
# Ray's version must equal rayVersion in the manifests and the pin in pyproject.toml.
ARG BASE_IMAGE=rayproject/ray:2.60.0-py311
FROM ${BASE_IMAGE}

# torch first, from the index that matches the base image (CPU-only or the CUDA build), so that
# the project's torch>=2.4 range is already satisfied and pip pulls nothing bigger.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX}" torch==2.13.0

WORKDIR /home/ray/translation
COPY --chown=ray:users pyproject.toml README.md ./
COPY --chown=ray:users graph graph
COPY --chown=ray:users deployments deployments
COPY --chown=ray:users checkpoints checkpoints
COPY --chown=ray:users benchmarks benchmarks
# A regular install: `import graph.app` works in every Ray worker whatever its directory, which
# is what serveConfigV2's import_path (graph.app:app) needs.
RUN pip install --no-cache-dir .

# t5-small comes from the Hugging Face hub at first start (the pods need egress). Without it,
# copy a local t5-small into the image or mount it, and set `model:` to that folder in
# configs/cpu.yaml / gpu.yaml before `make kuberay` (docs/operations.md).
