# The action's image. GitHub runs it as root with the workspace as working directory.
FROM python:3.13-slim
# The release builds on this tag's digest as pinned in base.Dockerfile; anywhere else the tag is what gets pulled.

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Exactly the locked versions, checked against their hashes; pip compiles their bytecode.
COPY requirements.txt /action/requirements.txt
RUN pip install --require-hashes --only-binary :all: -r /action/requirements.txt

COPY entrypoint.py /action/entrypoint.py
COPY suiterun /action/suiterun
COPY vendors /action/vendors
COPY templates /action/templates
# Bytecode now, not at every start (PYTHONDONTWRITEBYTECODE stops the runtime from writing it).
RUN python -m compileall -q /action

ENTRYPOINT ["python", "/action/entrypoint.py"]
