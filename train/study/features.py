"""Pixel features for the SVMs: moments-based deskewing, then flat [0, 1] vectors.

Slant is the largest nuisance variation in MNIST. Shearing each digit so that
its principal axis is vertical (the classic trick from Hsu, LeCun et al.) lets
a kernel machine spend its support vectors on shape instead of slant. The
shear is computed from the image's own second-order moments, so it needs no
training and behaves the same on train and test images.
"""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 28


def deskew(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 28, 28) uint8, each digit sheared upright about its centre of mass."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"expected (N, {SIDE}, {SIDE}) images, got shape {images.shape}")
    out = np.empty_like(images)
    for i, image in enumerate(images):
        m = cv2.moments(image.astype(np.float32))
        if abs(m["mu02"]) < 1e-2 or m["m00"] == 0:
            out[i] = image
            continue
        skew = m["mu11"] / m["mu02"]
        cy = m["m01"] / m["m00"]
        # x' = x + skew * (y - cy): a horizontal shear about the centre-of-mass row
        warp = np.float32([[1, skew, -skew * cy], [0, 1, 0]])
        out[i] = cv2.warpAffine(image, warp, (SIDE, SIDE), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)
    return out


def flat_pixels(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 784) float32 in [0, 1]: what the SVM pipelines (and their ONNX) take."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def svm_features(images: np.ndarray, use_deskew: bool) -> np.ndarray:
    return flat_pixels(deskew(images) if use_deskew else images)
