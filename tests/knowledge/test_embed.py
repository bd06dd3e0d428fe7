from __future__ import annotations

import numpy as np
import pytest

from genesys.knowledge.embed import load_embedder, numpy_supported, resolve_model

TEXTS = ["selective state space model with input-dependent step size", "a", "RMSNorm rescales " * 60]


def test_bundled_model_resolves_locally():
    path = resolve_model("all-MiniLM-L6-v2")
    assert numpy_supported(path)
    assert resolve_model("some-org/some-model") == "some-org/some-model"


def test_numpy_encoder_outputs_unit_vectors(embedder):
    v = embedder.encode(TEXTS)
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    a, b, c = embedder.encode(["state space model", "SSM with selective scan", "pizza recipe with cheese"])
    assert a @ b > a @ c
    # batch composition does not change a vector
    np.testing.assert_allclose(embedder.encode([TEXTS[0]])[0], v[0], atol=1e-5)


@pytest.mark.slow
def test_numpy_encoder_matches_sentence_transformers(embedder):
    st = load_embedder("all-MiniLM-L6-v2", backend="sentence-transformers", device="cpu")
    np.testing.assert_allclose(st.encode(TEXTS), embedder.encode(TEXTS), atol=2e-5)
