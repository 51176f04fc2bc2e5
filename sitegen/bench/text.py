# ruff: noqa: E501  (parallel zh/en sentences read best one per line)
"""Parallel Chinese/English phrase banks for synthetic disclosures.

Every entry is a ``(zh, en)`` pair with the same ``{slots}``, so a disclosure composed from
them reads as one text in two languages, like the samples in ``disclosures/``.  The banks are
large enough that 10,000 disclosures do not repeat each other word for word, and small enough
to read.  Nothing here is random: :mod:`sitegen.bench.generate` draws from these lists with a
seeded generator.
"""

from __future__ import annotations

from typing import NamedTuple


class Domain(NamedTuple):
    """What an algorithm works on: its items, where users meet it, and a slug for ids."""

    slug: str
    item_zh: str
    item_en: str  # plural
    surface_zh: str
    surface_en: str


DOMAINS: dict[str, list[Domain]] = {
    "personalized_push": [
        Domain("video", "短视频", "short videos", "推荐", "For You"),
        Domain("news", "资讯文章", "news articles", "头条", "Top Stories"),
        Domain("music", "歌曲", "songs", "每日推荐", "Daily Mix"),
        Domain("goods", "商品", "products", "猜你喜欢", "You May Like"),
        Domain("live", "直播间", "live streams", "直播", "Live"),
        Domain("notes", "图文笔记", "posts", "发现", "Discover"),
    ],
    "sorting_selection": [
        Domain("comments", "评论", "comments", "评论区", "Comments"),
        Domain("merchants", "商家", "restaurants and shops", "附近商家", "Nearby"),
        Domain("trending", "热榜话题", "trending topics", "热榜", "Trending"),
        Domain("hotels", "酒店", "hotels", "酒店列表", "Hotels"),
        Domain("answers", "问答", "answers", "问答", "Q&A"),
    ],
    "search_filtering": [
        Domain("search", "搜索结果", "search results", "搜索", "Search"),
        Domain("places", "地点", "places", "地图搜索", "Map search"),
        Domain("jobs", "职位", "job listings", "职位搜索", "Job search"),
        Domain("courses", "课程", "courses", "课程搜索", "Course search"),
        Domain("shopping", "商品搜索结果", "product search results", "搜索", "Search"),
    ],
    "scheduling_decision": [
        Domain("dispatch", "配送订单", "delivery orders", "骑手端", "Rider app"),
        Domain("rides", "网约车订单", "ride requests", "叫车", "Ride"),
        Domain("pricing", "动态价格", "fares", "下单页", "Checkout"),
        Domain("tasks", "众包任务", "crowd-work tasks", "任务大厅", "Task hall"),
        Domain("routes", "路线", "routes", "导航", "Navigation"),
    ],
    "generation_synthesis": [
        Domain("images", "图片", "images", "创作", "Create"),
        Domain("speech", "合成语音", "synthetic voices", "配音", "Voice-over"),
        Domain("chat", "对话回答", "chat answers", "助手", "Assistant"),
        Domain("effects", "视频特效", "video effects", "拍摄", "Camera"),
        Domain("translate", "译文", "translations", "翻译", "Translate"),
    ],
}

KIND = {
    "personalized_push": ("个性化推荐算法", "personalized recommendation"),
    "sorting_selection": ("排序精选算法", "ranking and selection"),
    "search_filtering": ("检索过滤算法", "search and filtering"),
    "scheduling_decision": ("调度决策算法", "scheduling and dispatch"),
    "generation_synthesis": ("生成合成算法", "content generation"),
}

# Brand syllables: a character and its pinyin, combined in pairs into names such as 流光 Liuguang.
SYLLABLES = [
    *[("流", "liu"), ("光", "guang"), ("云", "yun"), ("镜", "jing"), ("星", "xing")],
    *[("途", "tu"), ("海", "hai"), ("贝", "bei"), ("听", "ting"), ("风", "feng")],
    *[("明", "ming"), ("察", "cha"), ("乔", "qiao"), ("木", "mu"), ("轻", "qing")],
    *[("舟", "zhou"), ("速", "su"), ("递", "di"), ("路", "lu"), ("标", "biao")],
    *[("青", "qing"), ("禾", "he"), ("远", "yuan"), ("帆", "fan"), ("晨", "chen")],
    *[("曦", "xi"), ("锦", "jin"), ("程", "cheng"), ("松", "song"), ("鹤", "he")],
    *[("若", "ruo"), ("水", "shui"), ("知", "zhi"), ("行", "xing"), ("嘉", "jia")],
    *[("禾", "he"), ("蓝", "lan"), ("鲸", "jing"), ("北", "bei"), ("辰", "chen")],
    *[("南", "nan"), ("山", "shan"), ("优", "you"), ("品", "pin"), ("悦", "yue")],
    *[("享", "xiang"), ("乐", "le"), ("橙", "cheng"), ("果", "guo"), ("天", "tian")],
]

CITIES = [
    ("北京", "Beijing", "110108"),
    ("上海", "Shanghai", "310115"),
    ("深圳", "Shenzhen", "440305"),
    ("杭州", "Hangzhou", "330108"),
    ("广州", "Guangzhou", "440106"),
    ("成都", "Chengdu", "510107"),
    ("南京", "Nanjing", "320105"),
    ("武汉", "Wuhan", "420106"),
    ("西安", "Xi'an", "610113"),
    ("厦门", "Xiamen", "350203"),
]

INDUSTRIES = [
    ("网络科技", "Network Technology"),
    ("信息技术", "Information Technology"),
    ("数字科技", "Digital Technology"),
    ("互联网服务", "Internet Services"),
    ("智能科技", "Intelligent Technology"),
    ("文化传媒", "Culture and Media"),
]

SURNAMES = ["zhang", "wang", "li", "zhao", "chen", "liu", "yang", "huang", "zhou", "wu"]
GIVEN = ["min", "wei", "jing", "lei", "fang", "tao", "yan", "hao", "ning", "xin", "yu", "qiang"]


class Signal(NamedTuple):
    slug: str
    zh: str
    en: str
    personal: bool
    sensitive: bool


SIGNALS = [
    Signal("browsing", "浏览记录", "browsing history", True, False),
    Signal("searches", "搜索记录", "search history", True, False),
    Signal("clicks", "点击记录", "what you tap on", True, False),
    Signal("dwell-time", "停留时长", "how long you stay on each item", True, False),
    Signal("likes", "点赞和收藏", "likes and saves", True, False),
    Signal("comments", "您发表的评论", "comments you write", True, False),
    Signal("follows", "关注关系", "accounts you follow", True, False),
    Signal("city", "城市级粗略位置", "city-level location", True, False),
    Signal("precise-location", "精确位置", "precise location", True, True),
    Signal("device", "设备型号和系统版本", "device model and system version", True, False),
    Signal("network", "网络类型", "network type", False, False),
    Signal("purchases", "购买记录", "purchase history", True, False),
    Signal("payments", "支付账户信息", "payment account details", True, True),
    Signal("age-band", "年龄段", "age band", True, False),
    Signal("traffic", "实时路况", "live traffic conditions", False, False),
    Signal("weather", "天气情况", "the weather", False, False),
    Signal("tags", "内容标签和主题", "content tags and topics", False, False),
    Signal("published", "发布时间", "when an item was published", False, False),
    Signal("ratings", "用户评分和评价", "user ratings and reviews", False, False),
    Signal("orders", "历史订单", "past orders", True, False),
    Signal(
        "rider-location", "骑手和司机的实时位置", "drivers' and riders' live locations", True, True
    ),
    Signal("reports", "投诉和举报记录", "complaints and reports", True, False),
    Signal("voice", "声音样本", "voice samples", True, True),
    Signal("faces", "人脸图像", "face images", True, True),
    Signal("prompts", "您输入的提示词", "the prompts you type", True, False),
    Signal("uploads", "您上传的图片和文件", "images and files you upload", True, False),
    Signal("cv", "简历内容", "the contents of your CV", True, False),
    Signal("preferences", "您主动设置的偏好", "preferences you set yourself", True, False),
    Signal("listening", "收听记录", "listening history", True, False),
    Signal("inventory", "库存和营业状态", "stock levels and opening hours", False, False),
]


class Item(NamedTuple):
    """An objective or criterion: id slug, name, and a one-sentence description."""

    slug: str
    name_zh: str
    name_en: str
    zh: str
    en: str


OBJECTIVES = [
    Item(
        "click",
        "点击可能性",
        "Likelihood of a tap",
        "预测您点开一条{item}的可能性。",
        "Estimates how likely you are to open one of the {items}.",
    ),
    Item(
        "completion",
        "完整浏览",
        "Reading or watching to the end",
        "预测您完整看完一条{item}的可能性，比单纯点开更能反映真实兴趣。",
        "Estimates how likely you are to finish one of the {items}, which says more about real interest than a tap does.",
    ),
    Item(
        "engagement",
        "正向互动",
        "Positive interaction",
        "预测点赞、评论、分享和收藏的可能性，几类互动按固定比例合并计算。",
        "Estimates the chance that you like, comment on, share or save an item, combined in fixed proportions.",
    ),
    Item(
        "negative-feedback",
        "减少负面反馈",
        "Fewer negative reactions",
        "预测您点“不感兴趣”或举报的可能性，可能性越高，综合分扣减越多。",
        'Estimates the chance that you tap "Not interested" or report an item; the higher the chance, the lower the score.',
    ),
    Item(
        "diversity",
        "内容多样性",
        "Variety",
        "在一次刷新中保证题材和来源的丰富程度，避免您只看到单一类型的{item}。",
        "Keeps a mix of topics and sources in each refresh so that you do not see only one kind of {items}.",
    ),
    Item(
        "relevance",
        "相关性",
        "Relevance",
        "衡量{item}与您的查询词或当前场景的匹配程度，匹配度越高越靠前。",
        "Measures how well the {items} match your query or the current context; closer matches come first.",
    ),
    Item(
        "freshness",
        "时效性",
        "Freshness",
        "在相关性接近时优先展示较新的{item}，过期信息会被降权。",
        "When relevance is similar, newer {items} come first and outdated information is ranked lower.",
    ),
    Item(
        "on-time",
        "准时完成",
        "On-time completion",
        "降低实际完成时间超过向用户承诺时间的比例。",
        "Reduces the share of tasks finished later than the time promised to the user.",
    ),
    Item(
        "waiting",
        "缩短等待",
        "Shorter waits",
        "缩短用户从发出请求到得到服务的平均等待时间，高峰期同样适用。",
        "Shortens the average time between a request and the start of service, including at peak times.",
    ),
    Item(
        "fair-allocation",
        "公平分配",
        "Fair allocation",
        "让同一区域内服务人员获得的任务量和收入大致均衡，避免长时间无单。",
        "Keeps the amount of work and income roughly even among workers in the same area, so nobody waits for hours without a task.",
    ),
    Item(
        "accuracy",
        "准确可靠",
        "Accuracy",
        "减少错误和编造的内容；不确定时明确提示，而不是给出看似确定的错误结果。",
        "Reduces errors and invented content; when unsure, the system says so instead of giving a confident wrong result.",
    ),
    Item(
        "safety",
        "安全合规",
        "Safety",
        "拒绝生成或展示违法和不良信息，对涉及未成年人的内容采取更严格的标准。",
        "Refuses to produce or show unlawful or harmful content and applies stricter rules to content involving minors.",
    ),
    Item(
        "satisfaction",
        "用户满意度",
        "User satisfaction",
        "以用户评分和回访调查衡量结果是否真正解决了问题。",
        "Uses ratings and follow-up surveys to measure whether the result actually solved the user's problem.",
    ),
    Item(
        "workload",
        "劳动强度合理",
        "Reasonable workload",
        "控制服务人员连续工作时长和单日任务量，不以压缩休息时间换取效率。",
        "Limits continuous working time and daily tasks for workers, so efficiency is not bought by cutting their rest.",
    ),
]

CRITERIA = [
    Item(
        "interest-match",
        "兴趣匹配度",
        "Interest match",
        "{item}的主题和标签与您近期兴趣越接近，排序越靠前。",
        "The closer the {items}' topics and tags are to your recent interests, the higher they rank.",
    ),
    Item(
        "quality",
        "内容质量",
        "Content quality",
        "清晰、原创、信息准确的{item}获得加分，搬运和低质内容会被降权。",
        "Clear, original and accurate {items} get a boost; copied and low-quality ones are ranked lower.",
    ),
    Item(
        "authority",
        "来源权威性",
        "Source authority",
        "涉及时事、健康、金融等话题时，优先展示具有相应资质的机构发布的内容。",
        "For news, health and finance topics, content from qualified organisations is shown first.",
    ),
    Item(
        "distance",
        "距离远近",
        "Distance",
        "在其他条件相近时，距离更近的选项排序更靠前。",
        "When other things are equal, closer options rank higher.",
    ),
    Item(
        "price",
        "价格",
        "Price",
        "价格只作为排序因素之一，不会因为您的消费能力而对同一{item}显示不同价格。",
        "Price is one ranking factor among several; the same {items} are never priced differently because of what you can afford.",
    ),
    Item(
        "rating",
        "评分与口碑",
        "Ratings",
        "参考近{days}天的用户评分和有效评价，刷单和异常评价不计入。",
        "Uses user ratings and genuine reviews from the last {days} days; fake or abnormal reviews are excluded.",
    ),
    Item(
        "recency",
        "发布时间",
        "Publication time",
        "较新的{item}在同等条件下更靠前，超过{days}天的内容逐步降权。",
        "Newer {items} rank higher when other things are equal; items older than {days} days are gradually ranked lower.",
    ),
    Item(
        "violations",
        "违规记录",
        "Rule violations",
        "近期有违规记录的账号或商家会被降权，严重违规的直接不予展示。",
        "Accounts or merchants with recent violations are ranked lower; serious violations are not shown at all.",
    ),
    Item(
        "history",
        "历史表现",
        "Past performance",
        "参考过去{days}天的准时率、取消率和投诉率。",
        "Takes into account on-time, cancellation and complaint rates over the past {days} days.",
    ),
    Item(
        "availability",
        "可用性",
        "Availability",
        "已售罄、已下架或不在服务时间内的选项不会展示。",
        "Options that are sold out, withdrawn or outside service hours are not shown.",
    ),
    Item(
        "load",
        "当前负载",
        "Current load",
        "正在处理较多任务的服务人员会被分配较少的新任务。",
        "Workers who are already busy receive fewer new tasks.",
    ),
    Item(
        "conditions",
        "路况与天气",
        "Traffic and weather",
        "遇到恶劣天气或严重拥堵时，预计时间会自动放宽，不计入服务人员考核。",
        "In bad weather or heavy congestion, time estimates are relaxed automatically and do not count against workers.",
    ),
    Item(
        "risk",
        "安全风险",
        "Safety risk",
        "判断请求是否涉及违法、危害他人或诱导模型越狱，涉及的将被拒绝。",
        "Checks whether a request involves crime, harm to others or jailbreak attempts; such requests are declined.",
    ),
    Item(
        "query-intent",
        "查询意图",
        "Query intent",
        "识别您想找的是信息、服务还是具体的{item}，并按意图调整结果类型。",
        "Works out whether you are looking for information, a service or specific {items}, and adjusts the results accordingly.",
    ),
]

# Sentences for summaries and principles: {item}/{items}, {service}, {signal}/{signal2}, {n}.
SUMMARY = [
    (
        "根据您的{signal}和{signal2}，挑选您可能感兴趣的{item}，展示在“{surface}”页。",
        'Picks {items} you are likely to want, based on your {signal} and {signal2}, and shows them in the "{surface}" tab.',
    ),
    (
        "决定{service}中{item}的展示顺序，让更相关、质量更高的内容排在前面。",
        "Decides the order in which {items} appear in {service}, so that more relevant, higher-quality ones come first.",
    ),
    (
        "在{service}中按照您的需求筛选和排序{item}。",
        "Filters and orders {items} in {service} according to what you ask for.",
    ),
    (
        "为{service}自动生成{item}，生成内容均有明显标识。",
        "Generates {items} automatically in {service}; everything generated is clearly labelled.",
    ),
    (
        "在{service}中实时分配{item}，兼顾用户等待时间和服务人员的劳动强度。",
        "Assigns {items} in real time in {service}, balancing how long users wait against how hard workers are asked to work.",
    ),
]
SUMMARY_TAIL = [
    ("每天约有{n}万名用户使用这项功能。", "About {n}0,000 people use this feature each day."),
    ("您可以随时关闭个性化设置。", "You can turn personalization off at any time."),
    ("它不会使用您的通讯录或相册。", "It does not use your contacts or photo library."),
]
PRINCIPLES = [
    (
        "本算法的基本原理是“匹配”：通过分析{signal}和{signal2}，预测您对一条{item}的兴趣程度，并把预测得分较高、同时符合内容规范的{item}优先展示。",
        "The algorithm works by matching: it looks at {signal} and {signal2}, predicts how interested you would be in each of the {items}, and shows first those with the highest predicted interest that also meet our content rules.",
    ),
    (
        "我们坚持主流价值导向，不以单纯延长使用时长为唯一目标，不利用算法诱导沉迷。",
        "We do not treat time spent in {service} as the only goal, and we do not design the algorithm to encourage compulsive use.",
    ),
    (
        "模型每{n}天用最近的匿名化数据重新训练一次，上线前须通过人工评审和效果对比测试。",
        "The model is retrained every {n} days on recent anonymised data and must pass human review and comparison tests before it goes live.",
    ),
    (
        "对于未成年人账号，系统采用单独的内容池和更严格的时长提醒。",
        "For accounts of minors the system uses a separate pool of content and stricter screen-time reminders.",
    ),
    (
        "我们不根据性别、民族、宗教信仰等敏感特征进行差别对待，也不对同一{item}实行价格歧视。",
        "We do not treat people differently by sex, ethnicity or religion, and we never charge different prices for the same {items}.",
    ),
    (
        "{signal}只在您授权后使用，并在{n}个月后自动删除。",
        "Your {signal} is used only with your permission and is deleted automatically after {n} months.",
    ),
    (
        "当算法的判断与人工审核结论不一致时，以人工审核为准，并把这类案例用于改进模型。",
        "When the algorithm and a human reviewer disagree, the reviewer's decision stands and the case is used to improve the model.",
    ),
    (
        "算法的参数和规则由专门的算法安全委员会审批，重大调整会提前{n}天在{service}内公告。",
        "Parameters and rules are approved by an algorithm safety committee, and major changes are announced in {service} {n} days in advance.",
    ),
    (
        "生成或推荐的结果只是参考，您可以随时忽略，也可以通过反馈按钮告诉我们结果不合适。",
        "Results are suggestions only: you can ignore them at any time or use the feedback button to tell us a result was unsuitable.",
    ),
    (
        "系统会定期抽查{item}的展示结果，检查是否存在信息茧房、过度集中或歧视性结果。",
        "We regularly sample the {items} shown to check for filter bubbles, excessive concentration or discriminatory outcomes.",
    ),
    (
        "涉及时事新闻的内容只从具有资质的来源获取，并在显著位置标注来源。",
        "News and current-affairs content comes only from licensed sources, and the source is shown prominently.",
    ),
    (
        "我们每年至少进行一次算法安全自评估，并将结论报送主管部门。",
        "We carry out an algorithm safety self-assessment at least once a year and report the results to the regulator.",
    ),
]
MECHANISM = [
    (
        "召回",
        "Candidate retrieval",
        "从当日可用的{item}中，按兴趣相似、热门、附近等多条通路先选出约{n}千个候选。",
        "Several thousand candidate {items} (about {n},000) are drawn from the day's pool through separate routes such as similar interests, popularity and proximity.",
    ),
    (
        "过滤",
        "Filtering",
        "剔除违规内容、您已明确表示“不感兴趣”的内容，以及已经展示过的{item}。",
        'We remove anything that breaks our rules, {items} you have marked "Not interested", and ones you have already seen.',
    ),
    (
        "打分",
        "Scoring",
        "预估模型为每个候选计算各项目标的得分，再按公开的权重加权汇总为一个综合分。",
        "Prediction models score every candidate on each objective, and the scores are combined using the published weights.",
    ),
    (
        "重排",
        "Re-ranking",
        "避免连续出现同一来源或同一题材，并按一定比例插入新来源的优质{item}。",
        "We avoid showing the same source or topic several times in a row and mix in a share of good {items} from new sources.",
    ),
    (
        "反馈学习",
        "Learning from feedback",
        "您的每次点击、停留和反馈都会作为新的信号，用于下一次请求。",
        "Each tap, pause and piece of feedback becomes a signal for your next request.",
    ),
    (
        "人工复核",
        "Human review",
        "综合分异常或被多次举报的{item}会进入人工复核队列，一般在{n}小时内处理。",
        "{Items} with unusual scores or several reports go to a human review queue and are usually handled within {n} hours.",
    ),
    (
        "输入审核",
        "Input check",
        "您的请求先经过安全检测，明显违法或试图诱导有害输出的请求会被拒绝。",
        "Your request first passes a safety check; requests that are clearly unlawful or try to provoke harmful output are declined.",
    ),
    (
        "生成",
        "Generation",
        "模型结合上下文和参考材料生成结果，并在结果中添加“由AI生成”的标识。",
        'The model produces a result from the context and any reference material, and marks it "AI-generated".',
    ),
    (
        "匹配求解",
        "Matching",
        "每隔数秒对区域内所有待处理的{item}和可用服务人员统一求解，使整体等待时间和行驶距离最低。",
        "Every few seconds all waiting {items} and available workers in an area are matched together to minimise total waiting time and distance.",
    ),
    (
        "时间预估",
        "Time estimates",
        "根据历史数据、实时路况和天气估算完成时间，恶劣天气下自动留出余量。",
        "Completion times are estimated from past data, live traffic and the weather, with extra slack added automatically in bad weather.",
    ),
    (
        "效果监测",
        "Monitoring",
        "上线后持续监测投诉率、超时率和多样性指标，指标异常时自动回退到上一版本。",
        "After launch we monitor complaint rates, lateness and variety; if a measure goes wrong, the previous version is restored automatically.",
    ),
]
SCENARIOS = [
    (
        "打开{service}后默认进入的“{surface}”页",
        'The "{surface}" tab that opens by default in {service}',
    ),
    ("{service}网页版首页的{item}列表", "The list of {items} on the {service} website's home page"),
    ("搜索结果页下方的“相关推荐”", 'The "Related" row below search results'),
    ("消息通知中的个性化推送", "Personalised push notifications"),
    ("小程序中的{item}列表", "The list of {items} in the mini program"),
]
CONTROL_HOW = [
    (
        "在“我 > 设置 > 隐私 > {feature}”中关闭开关，关闭后将按热度和时间展示不针对个人的内容。",
        'Turn off "Me > Settings > Privacy > {feature}"; you will then see non-personalised content ordered by popularity and time.',
    ),
    (
        "在“设置 > {feature}”中可以查看系统为您生成的标签，并删除任意标签。",
        'Under "Settings > {feature}" you can see the tags we hold about you and delete any of them.',
    ),
    (
        "长按任意{item}，点击“为什么给我看这个”，可以看到展示的主要原因。",
        'Long-press any of the {items} and tap "Why am I seeing this?" to see the main reason.',
    ),
]
FEATURES = [
    ("个性化推荐", "Personalized recommendations"),
    ("兴趣标签", "Interest tags"),
    ("推荐原因", "Why this"),
]
CONTROL_REASON = [
    (
        "本算法不使用个人特征，所有用户看到的结果相同，因此无需关闭。",
        "The algorithm does not use personal characteristics: everyone sees the same results, so there is nothing to switch off.",
    ),
    ("本服务不为用户生成兴趣标签。", "The service does not create interest tags for users."),
    (
        "该功能正在开发中，预计在下个版本上线。",
        "This is being developed and should arrive in the next release.",
    ),
]
CHANGE_NOTES = {
    "weights": (
        "调整了优化目标“{name}”的权重。",
        'Changed the weight of the objective "{name}".',
    ),
    "criterion": ("新增判断标准“{name}”。", 'Added the decision criterion "{name}".'),
    "input": ("补充说明使用的数据“{name}”。", "Listed an additional data input: {name}."),
    "mechanism": ("更新了运行机制的说明。", "Updated the description of how the algorithm works."),
    "filed": ("取得备案编号。", "Added the filing number."),
    "withdrawn": (
        "该算法已停止使用，备案已注销。",
        "The algorithm is no longer used and its filing has been withdrawn.",
    ),
}
