#!/usr/bin/env bash
# Builds libdjl_torch.so from the kit's djl-jni/ directory against an installed torch; see CMakeLists.txt.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'USAGE'
usage: djl-jni/build.sh --torch-include DIR --torch-lib DIR --jni-include DIR --out FILE
                        [--cuda-include DIR] [--cxx11-abi 0|1] [--pt-version V1_13_X] [--jobs N]
USAGE
}

die() {
  echo "djl-jni/build.sh: error: $*" >&2
  exit 2
}

torch_include="" torch_lib="" jni_include="" out="" cuda_include="" abi=1 pt_version="" jobs="$(nproc)"
while (($#)); do
  case "$1" in
    --torch-include) torch_include="${2?$1 needs a value}"; shift 2 ;;
    --torch-lib) torch_lib="${2?$1 needs a value}"; shift 2 ;;
    --jni-include) jni_include="${2?$1 needs a value}"; shift 2 ;;
    --cuda-include) cuda_include="${2?$1 needs a value}"; shift 2 ;;
    --cxx11-abi) abi="${2?$1 needs a value}"; shift 2 ;;
    --pt-version) pt_version="${2?$1 needs a value}"; shift 2 ;;
    --jobs) jobs="${2?$1 needs a value}"; shift 2 ;;
    --out) out="${2?$1 needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ -n "$torch_include" && -n "$torch_lib" && -n "$jni_include" && -n "$out" ]] || { usage >&2; die "missing option"; }
[[ -f "$torch_include/torch/script.h" ]] || die "no torch/script.h under $torch_include"
[[ -f "$jni_include/jni.h" ]] || die "no jni.h under $jni_include"

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$HERE" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  "-DTORCH_INCLUDE=$torch_include" "-DTORCH_LIB=$torch_lib" "-DJNI_INCLUDE=$jni_include" \
  "-DCUDA_INCLUDE=$cuda_include" "-DCXX11_ABI=$abi" "-DPT_VERSION=$pt_version" > "$build/configure.log" \
  || { cat "$build/configure.log" >&2; die "cmake configure failed"; }
cmake --build "$build" -j "$jobs"
mkdir -p "$(dirname "$out")"
cp "$build/libdjl_torch.so" "$out"
