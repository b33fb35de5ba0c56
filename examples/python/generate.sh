#!/usr/bin/env bash
# Generates the Python stubs for every twotier .proto into ./gen with the
# standard Python gRPC tools.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf gen && mkdir -p gen
python -m grpc_tools.protoc -I ../../proto --python_out=gen --grpc_python_out=gen \
  $(cd ../../proto && find twotier -name '*.proto' | sort)
