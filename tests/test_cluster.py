"""MinHash signatures: computed for a whole batch at once, equal to one text at a time, and stable
across versions, since the store keeps signatures and compares new items with them."""

import random

import numpy as np

from rumourwatch import cluster

POST = "紧急提醒：每天喝三杯淡盐水可以杀死体内的病毒，看到请转发给家人！"


def signature(text: str):
    return cluster.minhash([cluster.compared_text(text)])[0]


def one_at_a_time(text: str):
    """The signature as the store's first version computed it: one text, np.unique over its shingles."""
    t = cluster.compared_text(text)
    if len(t) < 3:
        return None
    c = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    packed = np.unique((c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:])
    if len(packed) < 4:
        return None
    with np.errstate(over="ignore"):
        return (((packed[:, None] * cluster._A + cluster._B) >> np.uint64(32)).min(axis=0)).astype(np.uint32)


def test_a_stored_signature_stays_comparable():
    # Recorded from the version that filled existing databases: a change of hash family or shingling
    # would silently stop new copies from joining stored clusters.
    assert signature(POST)[:8].tolist() == [278250687, 93820636, 261872760, 37704734,
                                                     75855415, 1705966, 74205527, 16722657]


def test_a_batch_gives_each_text_its_own_signature():
    rng = random.Random(7)
    texts = [POST, "", "ab", "abcde", "abcdef", "哈哈哈哈哈哈哈哈", "abcabcabcabc", "ab哈哈ab哈哈ab", "x" * 5000,
             "半个表情\ud83d在这里", "😀😀😀😀😁😀", f"#某话题#{POST}", POST * 80]
    texts += ["".join(rng.choice("ab哈#@ 。😀") for _ in range(rng.randint(0, 40))) for _ in range(400)]
    batch = cluster.minhash([cluster.compared_text(t) for t in texts])
    for text, got in zip(texts, batch):
        want = one_at_a_time(text)
        assert (got is None) == (want is None), text
        if want is not None:
            assert np.array_equal(got, want), text
            assert np.array_equal(signature(text), want)
    # fewer than 4 distinct shingles cannot be compared, however long the text
    assert signature("哈哈哈哈哈哈哈哈") is None and signature("abcabcabcabc") is None
    assert signature("ab哈哈ab哈哈ab") is not None


def test_chunks_give_the_same_signatures_as_one_pass(monkeypatch):
    texts = [cluster.cluster_text(f"{POST}{i}" * (1 + i % 7)) for i in range(300)]
    whole = cluster.minhash(texts)
    monkeypatch.setattr(cluster, "CHUNK_SHINGLES", 500)
    chunked = cluster.minhash(texts)
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))
