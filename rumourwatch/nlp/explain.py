"""Why an item got its rumour score: the words (of the text and of the reactions) that pushed it up.

The models are linear over hashed character n-grams and the calibrator is linear in their margins,
so the calibrated log-odds of the score shown split exactly into one term per n-gram occurrence
(coefficient x TF-IDF value x the calibrator's slope for that model), one per fact, one per worded
reaction and the track records (log_odds_parts). Each n-gram term is spread evenly over the
characters of its n-gram, and a word's weight is the sum over its characters: positive weights
pushed the rumour score up. The account/spread facts are standardised against the training items'
average, and are reported with their contribution under the label of the side of that average the
item is on ("尚无互动" for an item without reactions whose absence pushed the score up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..records import Doc
from .rumour import (
    ACCOUNT_NAMES,
    DENSE_NAMES,
    REACTOR_NAMES,
    RepostModel,
    RumourModel,
    _account_shift,
    _doc_facts,
    _sigmoid,
    normalise_text,
)
from .tokenizer import EMOTICON, FUNCTION_CHARS, MedicalTokenizer

# Display labels for the dashboard (UI language). A fact pushes the score through how far it is
# from the average training item, in either direction, so each has two labels: what an item above
# that average has and what one below it has. "含图片" must never explain the score of
# an item without pictures: there it is the absence that counted.
PATTERN_NAME = "reaction_pattern"  # the reaction-pattern trees' part (RumourModel.pattern_correction)
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
    "has_user": ("有账号资料（粉丝、认证等）", "无账号资料（粉丝、认证等）"),  # an account id alone is not it
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
    PATTERN_NAME: ("转发与评论的整体情况（数量、速度、质疑等合起来看）像谣言", None),
}


# Particles, pronouns and other function words. The character n-grams weigh them (a post's style:
# 了, 被, 吗 lean to personal retellings, which the labelled rumours are), so they are real parts
# of a score, but listed one by one they crowd the words of the claim out of the item view and
# puzzle a monitor: they are shown together as one row (STYLE_TERM), weighing their sum.
STYLE_WORDS = FUNCTION_CHARS | {
    "我们", "你们", "他们", "她们", "它们", "咱们", "这个", "那个", "这些", "那些", "什么", "怎么", "这样", "那样", "这么",
    "那么", "自己", "已经", "就是", "还是", "但是", "而且", "因为", "所以",
    "我們", "你們", "他們", "她們", "這個", "那個", "這些", "什麼", "怎麼", "這樣", "那樣", "這麼", "那麼", "還是", "它們", "什麽", "已經", "因為"}
STYLE_TERM = "虚词与代词（{words}）"

# What the tokenizer gives that is not a word: @mentions (normalised to a bare "@") and punctuation.
# The n-grams weigh them like any character ("！！", " @"), so leaving them out of the item view hid
# what had pushed a score up (a post tagging many accounts read as a rumour, and the view listed
# only its harmless words): they are shown as one row each, the mentions and the marks.
MENTION_TERM = "@提及账号"
LINK_TERM = "链接"  # a link, normalised to one character
MARKS_TERM = "标点符号（{marks}）"


def _group_style(weights: dict[str, float]) -> dict[str, float]:
    """`weights` with the STYLE_WORDS folded into one STYLE_TERM entry, weighing their sum (kept
    when it is above 0, named by the ones that pushed the score up most)."""
    style = {w: v for w, v in weights.items() if w in STYLE_WORDS}
    out = {w: v for w, v in weights.items() if w not in STYLE_WORDS}
    _fold_into(out, style, lambda named: STYLE_TERM.format(words="、".join(named)))
    return out


def _fold_into(out: dict[str, float], parts: dict[str, float], term) -> None:
    """Add `parts` to `out` as one row weighing their sum, when that sum pushed the score up; the row
    is term(the names of the three parts that pushed it up most)."""
    total = sum(parts.values())
    if parts and total > 1e-6:
        named = [w for w, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v > 1e-6][:3]
        out[term(named)] = total


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
    """{word: summed part of its characters}; a Weibo emoticon code ([怒], [衰]) is one term (the
    tokenizer would leave its character alone, "怒", which reads as a word of the post); the
    @mentions are one term (MENTION_TERM) and the punctuation another (MARKS_TERM), when it pushed
    the score up on the whole."""
    out: dict[str, float] = {}
    marks: dict[str, float] = {}

    def add(word: str, a: int, b: int) -> None:
        part = float(per_char[offset + a:offset + b].sum())
        if any(ch.isalnum() for ch in word):
            out[word] = out.get(word, 0.0) + part
        elif "@" in word or "\x02" in word:
            term = MENTION_TERM if "@" in word else LINK_TERM
            out[term] = out.get(term, 0.0) + part
        elif (mark := word.strip()) and word.isprintable():
            marks[mark] = marks.get(mark, 0.0) + part

    pos = 0
    for m in [*EMOTICON.finditer(shown), None]:
        end = m.start() if m else len(shown)
        for word, a, b in tokenizer.spans(shown[pos:end]):
            add(word, pos + a, pos + b)
        if m:
            add(m.group(), m.start(), m.end())
            pos = m.end()
    _fold_into(out, marks, lambda named: MARKS_TERM.format(marks=" ".join(named)))
    return out


@dataclass
class LogOddsParts:
    """An item's calibrated log-odds of being a rumour, split into parts that add up to it exactly
    (`total`): the score the dashboard shows is sigmoid(total).

    Each model's margin is carried into the calibrated scale by the calibrator's slope for it (its
    slopes differ for an item with no reactions yet), so a word read by both the joint and the
    text-only model counts once, with both parts."""

    text: str                  # the normalised text the n-grams were read from
    text_chars: np.ndarray     # each character's part (joint and text-only models)
    reactions: str             # the reactions' own words as the joint model reads them (\x01-separated)
    reaction_chars: np.ndarray  # each of their characters' part (joint model)
    facts: np.ndarray          # each standardised fact's part (DENSE_NAMES order)
    dense: np.ndarray          # the facts' raw values
    dense_z: np.ndarray        # and standardised (the side of the training average)
    reaction_examples: list    # (a worded reaction, its part) from the reaction-level model
    none_worded: float         # reactions that are all bare reposts (reaction-level model)
    reactor_record: float      # the reacting accounts' track records
    account_record: float      # the publishing account's track record (a shift, clipped)
    base: float                # intercepts: what an item with none of the above would get
    reaction_pattern: float = 0.0  # the boosted trees' correction for the reactions' facts together

    @property
    def total(self) -> float:
        return float(self.text_chars.sum() + self.reaction_chars.sum() + self.facts.sum()
                     + sum(w for _, w in self.reaction_examples) + self.none_worded
                     + self.reactor_record + self.account_record + self.base + self.reaction_pattern)


def log_odds_parts(model: RumourModel, doc: Doc) -> LogOddsParts:
    """Split the doc's calibrated rumour log-odds (model.rumour_log_odds) into LogOddsParts."""
    f = model.features_
    nf = f.n_features
    coef = model.classifier_.coef_.ravel()
    slopes, intercept = model.calibrated_slopes(has_reactions=bool(doc.reactions))
    joint = slopes["joint"]
    norm = normalise_text(doc.text or "")
    text_chars = joint * char_contributions(f.text_, coef[:nf], norm)
    base = intercept + joint * float(model.classifier_.intercept_[0])
    if model.text_classifier_ is not None:
        text_chars += slopes["text"] * char_contributions(f.text_, model.text_classifier_.coef_.ravel(), norm)
        base += slopes["text"] * float(model.text_classifier_.intercept_[0])
    dense, reacts = _doc_facts(doc, f.max_reaction_chars)
    reaction_chars = (joint * char_contributions(f.react_, coef[nf:2 * nf], reacts, f.reaction_weight)
                      if reacts else np.zeros(0))
    dense = np.asarray(dense, dtype=float)
    xd = f.dense_z(dense[None, :])[0]
    examples = model.reaction_contributions(doc)
    # the reaction-level summary's other column: reactions, none of them with words of their own
    none_worded = (slopes.get(RepostModel.SUMMARY_NAMES[1], 0.0)
                   if model.repost_model_ is not None and doc.reactions and not examples else 0.0)
    account = 0.0
    if getattr(model, "account_weight_", 0.0):
        account = float(_account_shift(model.account_weight_, f.account_features([doc])[:, 0])[0])
    pattern = model.pattern_correction(doc) if hasattr(model, "pattern_correction") else 0.0
    return LogOddsParts(norm, text_chars, reacts, reaction_chars, joint * coef[2 * nf:] * xd, dense, xd,
                        examples, float(none_worded), model.reactor_contribution(doc), account, base, pattern)


def explain_rumour(model: RumourModel, doc: Doc, top: int = 10) -> dict:
    """{"rumour_probability", "words": [{term, weight}], "reactions": [{term, weight}],
    "reaction_examples": [{term, weight}], "signals": [{term, name, weight}]} — only what pushed
    the score up, largest first. reaction_examples are whole reactions (their own words, normalised:
    digits as 0) that the reaction-level model reads as leaning to "rumour", at most five.

    Every weight is a part of the calibrated log-odds of the score shown (log_odds_parts), summed
    over every occurrence of the word: words, reactions and signals compare on one scale, and a
    weight of 0.7 doubles the odds.
    """
    tokenizer = getattr(model, "tokenizer_", None) or MedicalTokenizer()
    parts = log_odds_parts(model, doc)
    text = doc.text or ""
    # show the item's own words when normalising kept every position, else the normalised ones
    text_weights = _group_style(_word_weights(tokenizer, text if len(parts.text) == len(text) else parts.text,
                                              parts.text_chars))
    reaction_weights: dict[str, float] = {}
    pos = 0
    for segment in parts.reactions.split("\x01") if parts.reactions else []:
        for w, v in _word_weights(tokenizer, segment, parts.reaction_chars, pos).items():
            reaction_weights[w] = reaction_weights.get(w, 0.0) + v
        pos += len(segment) + 1
    reaction_weights = _group_style(reaction_weights)

    def ranked(weights: dict[str, float]):
        rows = [{"term": w, "weight": round(v, 4)} for w, v in weights.items() if v > 1e-6]
        return sorted(rows, key=lambda r: -r["weight"])[:top]

    # each fact counts by its distance from the training average: label it by its side of it
    signals = [{"term": signal_label(n, z > 0), "name": n, "weight": round(float(c), 4),
                "value": None if not np.isfinite(v) else round(float(v), 4), "above_average": bool(z > 0)}
               for n, c, z, v in zip(DENSE_NAMES, parts.facts, parts.dense_z, parts.dense) if c > 1e-6]
    # the account's record shifts the calibrated log-odds (RumourModel.account_weight_); the
    # reacting accounts' records are a calibrator input, like the reaction-level summary
    # and the trees read the reactions' facts together (RumourModel.pattern_correction)
    for name, weight in ((ACCOUNT_NAMES[0], parts.account_record), (REACTOR_NAMES[0], parts.reactor_record),
                         (PATTERN_NAME, parts.reaction_pattern)):
        if weight > 1e-6:
            signals.append({"term": signal_label(name), "name": name, "weight": round(weight, 4)})
    # single reactions that read as doubting, warning or mocking (the reaction-level model)
    examples: dict[str, float] = {}
    for said, weight in parts.reaction_examples:
        examples[said] = examples.get(said, 0.0) + weight
    return {
        "rumour_probability": float(_sigmoid(parts.total)),  # the score, without scoring again
        "words": ranked(text_weights),
        "reactions": ranked(reaction_weights),
        "reaction_examples": ranked(examples)[:5],
        "signals": sorted(signals, key=lambda r: -r["weight"])[:top],
    }
