#!/usr/bin/env python3
"""Trains the digits model family that carbonscale's tests and demos serve, and exports it to ONNX.

Dataset: scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits" test set
(1,797 8x8 images, 10 classes; sklearn.datasets.load_digits, shipped inside the scikit-learn wheel,
so nothing is downloaded). Variants:
  digits-full   MLP 64-512-256-10 (float32)            : the most accurate and the most compute
  digits-small  MLP 64-12-10 (float32)                 : ~45x fewer multiply-adds, lower accuracy
  digits-int8   digits-full, dynamically quantised to int8 weights (onnxruntime.quantization)
Every model takes `input` float32 [N, 64] (pixel values 0..16) and returns `label` int64 [N] and
`probabilities` float32 [N, 10].

Writes into model-server/models/: the three .onnx files, digits-eval.json (the held-out labelled split,
so `carbonscale profile` can measure accuracy with Node alone) and train-report.json (seed, versions,
accuracy of each exported file as measured here with Python onnxruntime, for cross-checking).

  python3 -m venv /tmp/train-venv && /tmp/train-venv/bin/pip install -r model-server/train/requirements.txt
  /tmp/train-venv/bin/python model-server/train/train.py
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import skl2onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 20231
TEST_FRACTION = 0.3
# onnxruntime-node 1.30 (the server's runtime) reads these: keep the opset and IR version conservative.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
IR_VERSION = 8

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "models"))


def export(model, x_sample, path):
    onx = to_onnx(
        model,
        x_sample[:1].astype(np.float32),
        target_opset=TARGET_OPSET,
        # Plain tensors, not a sequence of maps: the Open Inference Protocol carries tensors only.
        options={id(model): {"zipmap": False}},
        initial_types=[("input", skl2onnx.common.data_types.FloatTensorType([None, 64]))],
        final_types=[
            ("label", skl2onnx.common.data_types.Int64TensorType([None])),
            ("probabilities", skl2onnx.common.data_types.FloatTensorType([None, 10])),
        ],
    )
    onx.ir_version = IR_VERSION
    onnx.checker.check_model(onx)
    onnx.save_model(onx, path)


def accuracy(path, x, y):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    labels = sess.run(["label"], {"input": x.astype(np.float32)})[0]
    return float(np.mean(labels == y))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=TEST_FRACTION, random_state=SEED, stratify=digits.target
    )
    specs = {
        "digits-full": (512, 256),
        "digits-small": (12,),
    }
    paths = {}
    for name, hidden in specs.items():
        clf = MLPClassifier(hidden_layer_sizes=hidden, max_iter=400, random_state=SEED)
        clf.fit(x_train, y_train)
        paths[name] = os.path.join(OUT, f"{name}.onnx")
        export(clf, x_train, paths[name])
    paths["digits-int8"] = os.path.join(OUT, "digits-int8.onnx")
    quantize_dynamic(paths["digits-full"], paths["digits-int8"], weight_type=QuantType.QInt8)
    q = onnx.load(paths["digits-int8"])
    q.ir_version = IR_VERSION
    onnx.save_model(q, paths["digits-int8"])

    report = {
        "seed": SEED,
        "dataset": "sklearn.datasets.load_digits (UCI Optical Recognition of Handwritten Digits, test part)",
        "split": {"testFraction": TEST_FRACTION, "stratified": True, "train": len(y_train), "eval": len(y_test)},
        "versions": {
            "python": sys.version.split()[0],
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "numpy": np.__version__,
        },
        "variants": {},
    }
    for name, path in paths.items():
        report["variants"][name] = {
            "file": os.path.basename(path),
            "bytes": os.path.getsize(path),
            "sha256": sha256(path),
            "accuracy": accuracy(path, x_test, y_test),
        }
    with open(os.path.join(OUT, "digits-eval.json"), "w") as f:
        json.dump(
            {
                "description": "Held-out split of sklearn's digits set: features are 8x8 pixel values 0..16, row-major",
                "seed": SEED,
                "input": "input",
                "features": [[int(v) for v in row] for row in x_test],
                "labels": [int(v) for v in y_test],
            },
            f,
            separators=(",", ":"),
        )
    with open(os.path.join(OUT, "train-report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report["variants"], indent=2))


if __name__ == "__main__":
    main()
