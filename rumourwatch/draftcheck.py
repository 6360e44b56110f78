"""稿件自查: a clarification draft read against the health commissions' own standard for health
science content (seed 000 §(二)1, 2; DOMAIN.md 8), for its author while drafting and for its reviewer.

The standard asks that health science content cite government, authoritative health bodies' or
professional bodies' standards, guidelines and reports, or literature with evidence; mark a personal
or novel view as such; suit its readers' reading ability (通俗易懂); carry its basic elements, the
applicable population among them; and be written and reviewed by experts of the field. A
clarification is also read by people who saw the rumour: it has to say which claim it answers and
give its conclusion up front.

Each check reads the words only and says what it found; a warning is for the author and the reviewer
to weigh, never a refusal (a draft is saved and submitted whatever the checks say). Submission writes
the warnings left into the alert's timeline and the audit log; approval records those the reviewer
approved with. Thresholds are below, each with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .standards import population_terms

OK, WARN, UNCHECKED = "ok", "warn", "unchecked"

MIN_BODY_CHARS = 100     # shorter than a paragraph: too short to give a reason and its evidence
MAX_BODY_CHARS = 2500    # a long read on a phone; the point has to be in the opening
OPENING_CHARS = 150      # where a reader who stops early must meet the conclusion
# Sentences: the 5,732 published debunk articles of the bundle average 43 characters a sentence
# (median; 30 at the 10th percentile, 63 at the 90th) with 8 % of their sentences over 80 characters
# (median). A draft wordier than about 70 % of them is told so.
MAX_MEAN_SENTENCE = 50   # characters a sentence on average
LONG_SENTENCE = 80       # characters: a sentence this long is hard to follow on a phone
MAX_LONG_SHARE = 0.2     # share of the sentences that may be that long
MAX_UNEXPLAINED = 2      # rare medical terms or abbreviations left unexplained before it warns
RARE_TERM_FREQ = 300     # THUOCL document count under which a medical term is specialist vocabulary
MIN_CLAIM_OVERLAP = 0.3  # share of the claim's character pairs the title and body must repeat

# A conclusion as clarifications state it ("喝白酒能防新冠？假的", "没有科学依据").
VERDICT = re.compile(r"谣言|不实|假的|是假|错误|误区|误解|没有(?:科学)?依据|缺乏(?:科学)?依据|无科学依据|不科学|不靠谱|"
                     r"不可信|不能|不会|不可以|并非|并不|无效|没有用|没用|真相|辟谣|属实|确有其事")
# Whom advice is for, when it is for everyone: the standard asks the population to be stated.
_EVERYONE = re.compile(r"所有人|普通人群|一般人群|公众|大众|任何人")
# Citable sources: government and authoritative health bodies, professional bodies, their
# standards, guidelines and reports, and literature (seed 000 §(二)1).
AUTHORITATIVE = re.compile(
    r"gov\.cn|who\.int|chinacdc\.cn|cdc\.gov|nih\.gov|pubmed|doi\.org|\b10\.\d{4,}/|cma\.org\.cn|cnki\.net|"
    r"wanfangdata|thelancet\.com|nejm\.org|bmj\.com|jamanetwork\.com|nature\.com|sciencedirect\.com|"
    r"卫生健康委|卫健委|卫生部|国家卫生|疾病预防控制|疾控|世界卫生组织|\bWHO\b|医学会|医师协会|药学会|护理学会|"
    r"药监局|药品监督管理|市场监督管理|国务院|中医药管理局|指南|共识|标准|规范|药典|健康素养|白皮书|报告|"
    r"杂志|学报|期刊|文献|研究|Lancet|JAMA|BMJ|NEJM|Nature|Science", re.IGNORECASE)
# Absolute claims health science must not make (a clarification is no exception), unless negated
# ("目前没有特效药").
ABSOLUTE = re.compile(r"100\s*%|百分之百|根治|包治|彻底治愈|永不复发|绝对安全|绝对有效|完全无害|零风险|零副作用|"
                      r"无任何副作用|神药|特效药|万能|立竿见影|药到病除")
_NEGATION = re.compile(r"[不没无非未别勿]")
# A personal view, which must be marked as one or carry peers' review (seed 000 §(二)1).
OPINION = re.compile(r"我认为|我觉得|个人认为|笔者认为|我个人|依我看|我的看法|我相信")
_OPINION_MARKED = re.compile(r"个人观点|个人看法|仅代表|同行评议|专家评议")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_URL = re.compile(r"https?://\S+|www\.\S+")
# Latin abbreviations a general reader knows; others want a Chinese name beside them.
KNOWN_ABBREVIATIONS = frozenset({"WHO", "CT", "DNA", "RNA", "HIV", "PM2.5", "N95", "ICU", "APP", "CDC", "COVID-19",
                                 "B超", "X光", "BMI", "GB", "DOI", "VS", "XX", "AI"})
# Two or more capitals, digits allowed (HPV, ACE2); not a vitamin's letter (D3, B12) or a word in
# lower case (an account name).
_ABBREVIATION = re.compile(r"(?<![A-Za-z0-9.])(?=(?:[0-9]*[A-Z]){2})[A-Z][A-Z0-9]*(?:[.\-][A-Z0-9]+)*(?![A-Za-z0-9])")
_EXPLAINED_AFTER = re.compile(r"\s*(?:[（(]|[，,]?\s*(?:即|也就是|是指|指的是|俗称|又称|简称))")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Check:
    key: str          # population, references, verdict, claim, length, sentences, terms, absolute, opinion,
    #                   author_field, reviewer_field
    status: str       # ok, warn, unchecked
    text: str         # one line in Chinese, saying what was found
    found: tuple = ()  # the words it is about, when any
    short: str = ""    # a warning in a few words, for the timeline


    @property
    def warns(self) -> bool:
        return self.status == WARN


@dataclass(frozen=True)
class Vocabulary:
    """Specialist medical vocabulary: the THUOCL medical lexicon's words of at least two characters
    seen in fewer than RARE_TERM_FREQ documents of its corpus (糖化血红蛋白, 血管紧张素; not 高血压,
    布洛芬), found in a text by the medical tokenizer (so 蛋白质 is not read as 白质)."""
    rare: frozenset
    tokenizer: object

    def terms(self, text: str):
        """(term, start, end) for each rare term of `text`."""
        return [(w, a, b) for w, a, b in self.tokenizer.spans(text) if w in self.rare]


@lru_cache(maxsize=4)
def vocabulary(data_dir: str) -> Vocabulary:
    """The bundle's vocabulary (cached per directory). Raises DataBundleError when the lexicon
    cannot be read."""
    from .nlp.tokenizer import LEXICON_FILE, MedicalTokenizer, read_lexicon
    words = read_lexicon(Path(data_dir) / LEXICON_FILE)
    rare = frozenset(w for w, freq in words if freq < RARE_TERM_FREQ and len(w) >= 2 and _CJK.search(w))
    return Vocabulary(rare, MedicalTokenizer(words))


def _clip(words, limit: int = 5) -> str:
    words = list(words)
    return "、".join(words[:limit]) + ("等" if len(words) > limit else "")


def _explained(text: str, start: int, end: int) -> bool:
    """A term is explained when a gloss follows it ("HPV（人乳头瘤病毒）", "…，即…") or it is itself the
    gloss in brackets ("胃里的细菌（幽门螺杆菌）")."""
    return bool(_EXPLAINED_AFTER.match(text, end)) or (start > 0 and text[start - 1] in "（(")


def _unexplained_terms(text: str, vocab: Vocabulary) -> list[str]:
    """The rare medical terms of `text` none of whose mentions is explained."""
    seen: dict[str, bool] = {}
    for word, start, end in vocab.terms(text):
        seen[word] = seen.get(word, False) or _explained(text, start, end)
    return [w for w, explained in seen.items() if not explained]


def _unexplained_abbreviations(text: str) -> list[str]:
    seen: dict[str, bool] = {}
    for m in _ABBREVIATION.finditer(text):
        word = m.group(0)
        if word in KNOWN_ABBREVIATIONS:
            continue
        seen[word] = seen.get(word, False) or _explained(text, m.start(), m.start() + len(word))
    return [w for w, explained in seen.items() if not explained]


def _pairs(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def _population(title: str, body: str) -> Check:
    terms = population_terms(f"{title}\n{body}") or list(dict.fromkeys(_EVERYONE.findall(f"{title}\n{body}")))
    if terms:
        return Check("population", OK, f"写明了适用人群：{_clip(terms)}。", tuple(terms))
    return Check("population", WARN, "未写明适用人群：请说明建议对谁适用、谁不适用（如老年人、孕妇、慢性病患者，或“所有人群”）。", short="未写明适用人群")


def _references(references: str) -> Check:
    lines = [s.strip() for s in re.split(r"[\n；;]+", references or "") if s.strip()]
    if not lines:
        return Check("references", WARN, "未列出依据：请引用政府、权威卫生机构或专业机构发布的标准、指南和报告，或有证据支持的文献。", short="未列出依据")
    good = [s for s in lines if AUTHORITATIVE.search(s)]
    if not good:
        return Check("references", WARN, f"依据 {len(lines)} 条，未见政府、权威卫生机构或专业机构的标准、指南、报告或文献"
                                         "（可写明发布机构、文件名或文献出处）。", tuple(lines[:5]), short="依据不够权威")
    return Check("references", OK, f"依据 {len(lines)} 条，其中权威来源 {len(good)} 条。", tuple(good[:5]))


def _verdict(title: str, body: str) -> Check:
    found = VERDICT.findall(f"{title}\n{body[:OPENING_CHARS]}")
    if found:
        return Check("verdict", OK, f"标题或开头给出了结论（{_clip(dict.fromkeys(found), 3)}）。", tuple(dict.fromkeys(found)))
    return Check("verdict", WARN, f"标题和正文前 {OPENING_CHARS} 字未见明确结论（如“不实”“没有科学依据”）："
                                  "只读开头的读者可能只记住了说法本身。", short="开头无明确结论")


def _claim(title: str, body: str, claim: str | None) -> Check:
    if not (claim or "").strip():
        return Check("claim", WARN, "未填写所澄清的说法：发布后，系统据此识别转述同一说法的新帖。", short="未填写所澄清的说法")
    wanted = _pairs(claim)
    if not wanted:
        return Check("claim", UNCHECKED, "所澄清的说法中没有汉字，未检查正文是否回应了它。")
    share = len(wanted & _pairs(f"{title}\n{body}")) / len(wanted)
    if share < MIN_CLAIM_OVERLAP:
        return Check("claim", WARN, f"正文很少复述所澄清的说法（字词重合 {share:.0%}）：读者可能不知道澄清的是哪条说法。", short="未复述所澄清的说法")
    return Check("claim", OK, f"正文回应了所澄清的说法（字词重合 {share:.0%}）。")


def _length(body: str) -> Check:
    n = len(body.strip())
    if n < MIN_BODY_CHARS:
        return Check("length", WARN, f"正文仅 {n} 字，难以说明理由和依据（建议不少于 {MIN_BODY_CHARS} 字）。", short="正文过短")
    if n > MAX_BODY_CHARS:
        return Check("length", WARN, f"正文 {n:,} 字，在手机上偏长：请把结论和要点放在前 {OPENING_CHARS} 字，"
                                     f"或压缩到 {MAX_BODY_CHARS:,} 字以内。", short="正文过长")
    return Check("length", OK, f"正文 {n:,} 字。")


def _sentences(body: str) -> Check:
    sentences = [s.strip() for s in _SENTENCE_END.split(_URL.sub("", body)) if s.strip()]
    if not sentences:
        return Check("sentences", UNCHECKED, "正文为空，未检查句子长度。")
    mean = sum(map(len, sentences)) / len(sentences)
    long = [s for s in sentences if len(s) > LONG_SENTENCE]
    if mean > MAX_MEAN_SENTENCE or len(long) > MAX_LONG_SHARE * len(sentences):
        parts = [f"平均每句 {mean:.0f} 字"] + ([f"{len(long)} 句超过 {LONG_SENTENCE} 字（如“{long[0][:20]}…”）"]
                                           if long else [])
        return Check("sentences", WARN, "，".join(parts) + f"：句子宜短（平均不超过 {MAX_MEAN_SENTENCE} 字，"
                                                          f"超过 {LONG_SENTENCE} 字的句子不多于 {MAX_LONG_SHARE:.0%}），便于一般读者理解。", tuple(s[:20] for s in long[:3]), short="句子偏长")
    return Check("sentences", OK, f"句子较短：平均每句 {mean:.0f} 字。")


def _terms(title: str, body: str, vocab: Vocabulary | None) -> Check:
    text = _URL.sub("", f"{title}\n{body}")
    abbreviations = _unexplained_abbreviations(text)
    if vocab is None:
        words = abbreviations
        unchecked = "；未检查医学术语（找不到医学词库 THUOCL_medical.txt，见 RUMOURWATCH_DATA_DIR）"
    else:
        words = _unexplained_terms(text, vocab) + abbreviations
        unchecked = ""
    if len(words) > MAX_UNEXPLAINED:
        return Check("terms", WARN, f"有 {len(words)} 个专业术语或外文缩写未加解释：{_clip(words)}；"
                                    f"请在首次出现处用括号或“即…”说明{unchecked}。", tuple(words), short="术语未解释")
    status = UNCHECKED if vocab is None else OK
    found = f"（{_clip(words)}）" if words else ""
    return Check("terms", status, f"未加解释的专业术语或外文缩写 {len(words)} 个{found}{unchecked}。", tuple(words))


def _absolute(title: str, body: str) -> Check:
    text = f"{title}\n{body}"
    found = [m.group(0) for m in ABSOLUTE.finditer(text) if not _NEGATION.search(text[max(0, m.start() - 4):m.start()])]
    if found:
        found = list(dict.fromkeys(found))
        return Check("absolute", WARN, f"含绝对化用语：{_clip(found)}（科学表述应留有余地）。", tuple(found), short="绝对化用语")
    return Check("absolute", OK, "未见绝对化用语。")


def _opinion(title: str, body: str) -> Check:
    text = f"{title}\n{body}"
    found = list(dict.fromkeys(OPINION.findall(text)))
    if found and not _OPINION_MARKED.search(text):
        return Check("opinion", WARN, f"有个人看法的表述（{_clip(found, 3)}）：请注明为专家个人观点，或附同行专家评议意见。",
                     tuple(found), short="个人观点未注明")
    if found:
        return Check("opinion", OK, "个人看法已注明为个人观点或附评议。", tuple(found))
    return Check("opinion", OK, "未见个人看法的表述。")


def field_check(key: str, role: str, expert: dict | None, topic: str | None) -> Check | None:
    """Whether the author ('作者') or the reviewer ('审核人') is an expert of the alert's Healthy China
    topic ("应由相应领域的专家进行编写与审核", seed 000 §(三)1). None when the alert has no such topic."""
    from .experts import TOPICS, expert_topics
    if topic not in TOPICS:
        return None
    if expert is None:
        return Check(key, WARN, f"{role}不是专家库中的专家：按方案，科普信息应由相应领域（{topic}）的专家编写与审核。", short=f"{role}非本领域专家")
    if topic in expert_topics(expert):
        return Check(key, OK, f"{role}{expert['name']}的专业覆盖本条主题（{topic}）。")
    return Check(key, WARN, f"{role}{expert['name']}的专业不含本条主题（{topic}）：按方案应由相应领域的专家编写与审核，"
                            "可请该领域专家审核。", short=f"{role}非本领域专家")


def check_draft(title: str, body: str, references: str = "", claim: str | None = None, *,
                vocab: Vocabulary | None = None, author: dict | None = None, topic: str | None = None,
                with_author: bool = False) -> list[Check]:
    """The checks of one draft, in the order the author would fix them. `vocab`: vocabulary() of the
    bundle, None when it cannot be read (the term check then says it did not run). `with_author`:
    also check that `author` (an expert row, None for someone outside the pool) is of the `topic`'s field."""
    title, body = title or "", body or ""
    checks = [_verdict(title, body), _claim(title, body, claim), _references(references), _population(title, body),
              _length(body), _sentences(body), _terms(title, body, vocab), _absolute(title, body), _opinion(title, body)]
    if with_author:
        checks.append(field_check("author_field", "作者", author, topic))
    return [c for c in checks if c is not None]


def warnings(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.warns]


def summary(checks: list[Check]) -> str:
    """One line for the alert's timeline: '自查提示 2 项：未列出依据、绝对化用语' or '自查 9 项均无提示'."""
    warned = warnings(checks)
    if not warned:
        return f"自查 {len(checks)} 项均无提示"
    return f"自查提示 {len(warned)} 项：" + "、".join(c.short or c.key for c in warned)


def ordered(checks: list[Check]) -> list[Check]:
    """Warnings first, then what was not checked, then what passed (each in check order)."""
    order = {WARN: 0, UNCHECKED: 1, OK: 2}
    return sorted(checks, key=lambda c: order[c.status])


def lines(checks: list[Check]) -> list[str]:
    """The checks as text lines, warnings first: '！ …' for a warning, '✓ …' passed, '－ …' not checked."""
    mark = {WARN: "！", OK: "✓", UNCHECKED: "－"}
    return [f"{mark[c.status]} {c.text}" for c in ordered(checks)]


def to_dict(check: Check) -> dict:
    return {"key": check.key, "status": check.status, "text": check.text, "found": list(check.found)}


def bundle_vocabulary(data_dir: str | None = None) -> Vocabulary | None:
    """The vocabulary of the configured data bundle, None when its lexicon cannot be read (the term
    check then says it did not run)."""
    from .config import load_settings
    from .errors import DataBundleError
    try:
        return vocabulary(str(data_dir or load_settings().data_dir))
    except (DataBundleError, OSError):
        return None


def clarification_checks(db, clarification: dict, *, vocab: Vocabulary | None = None,
                         reviewer: str | None = None) -> list[Check]:
    """The checks of a stored clarification: its author's field against its alert's topic, and with
    `reviewer` (a username) the reviewer's field too (a user who is not an expert of the pool is not
    of the field). `vocab`: the bundle's (bundle_vocabulary) when None."""
    from . import store

    vocab = vocab or bundle_vocabulary()
    alert = store.get_alert(db, clarification["alert_id"]) or {}
    topic = alert.get("topic")
    author = store.get_expert(db, clarification["expert_id"]) if clarification.get("expert_id") is not None else None
    checks = check_draft(clarification.get("title") or "", clarification.get("body") or "",
                         clarification.get("references_text") or "", clarification.get("claim"),
                         vocab=vocab, author=author, topic=topic, with_author=True)
    if reviewer is not None:
        user = store.get_user(db, reviewer) or {}
        expert = store.get_expert(db, user["expert_id"]) if user.get("expert_id") is not None else None
        check = field_check("reviewer_field", "审核人", expert, topic)
        if check is not None:
            checks.append(check)
    return checks
