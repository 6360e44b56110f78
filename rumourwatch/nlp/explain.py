"""Why an item got its rumour score: the words (of the text and of the reactions) that pushed it up.

The model is linear over hashed character n-grams, so its log-odds split exactly into one term per
n-gram occurrence (coefficient x TF-IDF value). Each term is spread evenly over the characters of
its n-gram, and a word's weight is the sum over its characters: positive weights pushed the rumour
score up. The account/spread facts are linear terms too, standardised against the training items'
average, and are reported with their contribution under the label of the side of that average the
item is on ("尚无互动" for an item without reactions whose absence pushed the score up).
"""

from __future__ import annotations

import numpy as np

from ..records import Doc
from .rumour import (ACCOUNT_NAMES, DENSE_NAMES, REACTOR_NAMES, RumourModel, _account_shift, _doc_facts,
                     normalise_text)
from .tokenizer import MedicalTokenizer

# Display labels for the dashboard (UI language). A fact pushes the score through how far it is
# from the average training item, in either direction, so each has two labels: what an item above
# that average has and what one below it has. "含图片" must never explain the score of
# an item without pictures: there it is the absence that counted.
SIGNAL_LABELS = {  # name: (label above the average, label below it)
    "has_reactions": ("已有互动", "尚无互动"),
    "log_reactions": ("互动数较多", "互动数较少"),
    "log_reposts": ("转发数较多", "转发数较少"),
    "log_comments": ("评论数较多", "评论数较少"),
    "comment_share": ("评论占比较高", "评论占比较低"),
    "log_velocity_per_hour": ("传播速度较快", "传播速度较慢"),
    "log_first_reaction_minutes": ("首条互动出现较晚", "首条互动出现较早"),
    "log_reactions_first_hour": ("首小时互动较多", "首小时互动较少"),
    "trivial_share": ("无内容转发占比较高", "无内容转发占比较低"),
    "doubt_share": ("质疑/辟谣类互动占比较高", "质疑/辟谣类互动占比较低"),
    "distinct_user_share": ("不同用户占比较高", "不同用户占比较低"),
    "log_mean_reaction_chars": ("互动内容较长", "互动内容较短"),
    "has_user": ("有账号信息", "无账号信息"),
    "log_followers": ("粉丝较多", "粉丝较少"),
    "log_friends": ("关注数较多", "关注数较少"),
    "log_messages": ("发帖数较多", "发帖数较少"),
    "verified": ("认证账号", "非认证账号"),
    "verified_type_personal": ("个人认证", "非个人认证"),
    "verified_type_org": ("机构认证", "非机构认证"),
    "gender_f": ("账号性别为女", "账号性别非女或未知"),
    "log_text_chars": ("正文较长", "正文较短"),
    "has_url": ("含链接", "不含链接"),
    "pics": ("图片较多", "图片较少"),
    "has_pic": ("含图片", "不含图片"),
    "has_video": ("含视频", "不含视频"),
    "question_marks": ("问号较多", "问号较少"),
    "exclamations": ("感叹号较多", "感叹号较少"),
    "has_brackets": ("含【】标题", "不含【】标题"),
    "has_hashtag": ("含话题标签", "不含话题标签"),
    # not standardised facts: they only ever push up, and are named as such
    "account_record": ("发布账号过往帖子被判定为谣言的记录", None),
    "reactor_record": ("转发/评论者过往参与的帖子多为谣言", None),
}


def signal_label(name: str, above_average: bool = True) -> str:
    """The UI label of a fact, for an item above (or below) the training items' average of it."""
    high, low = SIGNAL_LABELS.get(name, (name, None))
    return high if above_average or low is None else low


def char_contributions(tfidf, coef_block: np.ndarray, s: str, scale: float = 1.0) -> np.ndarray:
    """Log-odds contribution of each character of the normalised string `s` to one feature block."""
    x = tfidf.transform([s])
    contrib = coef_block[x.indices] * x.data * scale
    codes = np.array([ord(c) for c in s + "\x00"], dtype=np.int64)
    breaks_before = np.concatenate([[0], np.cumsum(codes < 2)])
    per_char = np.zeros(len(codes))
    k = 0
    lo, hi = tfidf.ngram_range
    for n in range(lo, hi + 1):
        m = len(codes) - n + 1
        if m <= 0:
            continue
        starts = np.flatnonzero(breaks_before[n:m + n] == breaks_before[:m])
        c = contrib[k:k + len(starts)] / n
        for j in range(n):
            np.add.at(per_char, starts + j, c)
        k += len(starts)
    return per_char[:len(s)]


def _word_weights(tokenizer, shown: str, per_char: np.ndarray, offset: int = 0) -> dict[str, float]:
    out: dict[str, float] = {}
    for word, a, b in tokenizer.spans(shown):
        if any(ch.isalnum() for ch in word):
            out[word] = out.get(word, 0.0) + float(per_char[offset + a:offset + b].sum())
    return out


def explain_rumour(model: RumourModel, doc: Doc, top: int = 10) -> dict:
    """{"rumour_probability", "words": [{term, weight}], "reactions": [{term, weight}],
    "reaction_examples": [{term, weight}], "signals": [{term, name, weight}]} — only what pushed
    the score up, largest first. reaction_examples are whole reactions (their own words, normalised:
    digits as 0) that the reaction-level model reads as leaning to "rumour", at most five.

    Weights are log-odds contributions (summed over every occurrence of the word).
    """
    tokenizer = getattr(model, "tokenizer_", None) or MedicalTokenizer()
    f = model.features_
    coef = model.classifier_.coef_.ravel()
    nf = f.n_features
    text = doc.text or ""
    norm = normalise_text(text)
    per_char = char_contributions(f.text_, coef[:nf], norm)
    # show the item's own words when normalising kept every position, else the normalised ones
    text_weights = _word_weights(tokenizer, text if len(norm) == len(text) else norm, per_char)

    dense, reacts = _doc_facts(doc, f.max_reaction_chars)
    reaction_weights: dict[str, float] = {}
    if reacts:
        per_char_r = char_contributions(f.react_, coef[nf:2 * nf], reacts, f.reaction_weight)
        pos = 0
        for segment in reacts.split("\x01"):
            for w, v in _word_weights(tokenizer, segment, per_char_r, pos).items():
                reaction_weights[w] = reaction_weights.get(w, 0.0) + v
            pos += len(segment) + 1

    def ranked(weights: dict[str, float]):
        rows = [{"term": w, "weight": round(v, 4)} for w, v in weights.items() if v > 1e-6]
        return sorted(rows, key=lambda r: -r["weight"])[:top]

    xd = f.dense_z(np.asarray([dense], dtype=float))[0]
    # each fact counts by its distance from the training average: label it by its side of it
    signals = [{"term": signal_label(n, z > 0), "name": n, "weight": round(float(c), 4),
                "value": None if not np.isfinite(v) else round(float(v), 4), "above_average": bool(z > 0)}
               for n, c, z, v in zip(DENSE_NAMES, coef[2 * nf:] * xd, xd, dense) if c > 1e-6]
    account_weight = getattr(model, "account_weight_", 0.0)
    if account_weight:
        # the account's record shifts the calibrated log-odds (RumourModel.account_weight_)
        weight = float(_account_shift(account_weight, f.account_features([doc])[:, 0])[0])
        if weight > 1e-6:
            signals.append({"term": signal_label(ACCOUNT_NAMES[0]), "name": ACCOUNT_NAMES[0],
                            "weight": round(weight, 4)})
    # the reacting accounts' records (a calibrator input, like the reaction-level summary)
    weight = model.reactor_contribution(doc)
    if weight > 1e-6:
        signals.append({"term": signal_label(REACTOR_NAMES[0]), "name": REACTOR_NAMES[0],
                        "weight": round(weight, 4)})
    # single reactions that read as doubting, warning or mocking (the reaction-level model)
    examples: dict[str, float] = {}
    for said, weight in model.reaction_contributions(doc):
        examples[said] = examples.get(said, 0.0) + weight
    return {
        "rumour_probability": float(model.rumour_probability([doc])[0]),
        "words": ranked(text_weights),
        "reactions": ranked(reaction_weights),
        "reaction_examples": ranked(examples)[:5],
        "signals": sorted(signals, key=lambda r: -r["weight"])[:top],
    }
