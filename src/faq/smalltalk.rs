//! Small talk: greetings, thanks, "are you a robot", jokes and goodbyes get a short friendly reply that steers
//! back to the user's problem instead of an FAQ entry or a case. A message is small talk only when nothing but
//! such phrases (and filler) is in it: "你好，我的卡丢了" is a question.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::normalize::fold;
use super::phrases::whole_word;
use super::Lang;

/// The kinds of small talk, each with its own reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 你好, hi.
    Greeting,
    /// 谢谢, thanks.
    Thanks,
    /// 你是机器人吗, are you a bot.
    Bot,
    /// 讲个笑话, tell me a joke.
    Joke,
    /// 再见, bye.
    Goodbye,
}

/// Phrases of each kind, matched on folded text (half-width, lower case, simplified Chinese).
const PHRASES: &[(Kind, &[&str])] = &[
    (
        Kind::Greeting,
        &[
            "你好",
            "您好",
            "你们好",
            "大家好",
            "哈喽",
            "哈罗",
            "嗨",
            "在吗",
            "在不在",
            "在么",
            "有人吗",
            "有人在吗",
            "有没有人",
            "有没有人在",
            "早上好",
            "上午好",
            "下午好",
            "晚上好",
            "早安",
            "晚安",
            "hello",
            "hi",
            "hey",
            "hiya",
            "yo",
            "good morning",
            "good afternoon",
            "good evening",
            "howdy",
            "anyone there",
            "anybody there",
            "is anyone there",
            "is anybody there",
            "anyone here",
            "greetings",
            "how are you",
            "how's it going",
            "what's up",
            "sup",
            "你好吗",
            "最近好吗",
            "こんにちは",
            "こんばんは",
            "おはよう",
            "おはようございます",
            "はじめまして",
            "もしもし",
            "やあ",
        ],
    ),
    (
        Kind::Thanks,
        &[
            "谢谢",
            "多谢",
            "感谢",
            "谢了",
            "谢啦",
            "谢谢你",
            "非常感谢",
            "辛苦了",
            "好的",
            "好滴",
            "好嘞",
            "明白了",
            "知道了",
            "懂了",
            "ok",
            "okay",
            "thanks",
            "thank you",
            "thx",
            "ty",
            "cheers",
            "great",
            "got it",
            "perfect",
            "awesome",
            "appreciate it",
            "much appreciated",
            "cool",
            "nice",
            "ありがとう",
            "ありがとうございます",
            "ありがとうございました",
            "どうもありがとう",
            "助かりました",
            "感謝します",
            "サンキュー",
        ],
    ),
    (
        Kind::Bot,
        &[
            "你是机器人吗",
            "你是机器人",
            "你是不是机器人",
            "你是谁",
            "你是人吗",
            "你是真人吗",
            "你叫什么",
            "你叫什么名字",
            "机器人吗",
            "are you a bot",
            "are you a robot",
            "are you human",
            "are you real",
            "are you an ai",
            "who are you",
            "what are you",
            "what's your name",
            "is this a bot",
            "am i talking to a bot",
            "you a bot",
            "ロボットですか",
            "ボットですか",
            "aiですか",
            "人間ですか",
            "機械ですか",
            "自動応答ですか",
        ],
    ),
    (
        Kind::Joke,
        &[
            "讲个笑话",
            "说个笑话",
            "讲笑话",
            "来个笑话",
            "讲个段子",
            "无聊",
            "陪我聊天",
            "陪我聊聊",
            "聊聊天",
            "tell me a joke",
            "say something funny",
            "joke",
            "i'm bored",
            "im bored",
            "let's chat",
            "chat with me",
            "冗談を言って",
            "ジョークを言って",
            "面白い話をして",
            "何か面白いこと言って",
        ],
    ),
    (
        Kind::Goodbye,
        &[
            "再见",
            "拜拜",
            "拜",
            "回头见",
            "下次见",
            "先这样",
            "没事了",
            "没问题了",
            "bye",
            "goodbye",
            "bye bye",
            "see you",
            "see ya",
            "good night",
            "that's all",
            "nothing else",
            "all good",
            "さようなら",
            "さよなら",
            "またね",
            "バイバイ",
            "失礼します",
            "それでは",
        ],
    ),
];

/// Characters and words that may surround small talk without making it a question.
const FILLER: &[&str] = &[
    "啊",
    "呀",
    "哦",
    "喔",
    "噢",
    "嗯",
    "呢",
    "吧",
    "啦",
    "哈",
    "哈哈",
    "哈哈哈",
    "嘿",
    "嘛",
    "哇",
    "呵呵",
    "嘻嘻",
    "你",
    "您",
    "们",
    "很",
    "非常",
    "真",
    "的",
    "了",
    "哦哦",
    "么",
    "吗",
    "请问",
    "客服",
    "小助手",
    "机器人",
    "so",
    "much",
    "very",
    "a",
    "lot",
    "you",
    "there",
    "guys",
    "all",
    "again",
    "bot",
    "team",
    "and",
    "oh",
    "lol",
    "haha",
    "hehe",
    "ok",
    "well",
    "um",
    "uh",
    "dear",
    "sir",
    "madam",
    "です",
    "ます",
    "か",
    "ね",
    "よ",
    "な",
    "ございます",
    "ございました",
    "どうも",
    "あなた",
    "さん",
    "は",
    "も",
    "よろしく",
    "お願いします",
    "everyone",
    "folks",
    "mate",
];

/// Finds small talk in a message.
pub struct SmallTalk {
    automaton: AhoCorasick,
    /// Kind of each pattern; `None` for filler.
    kinds: Vec<Option<Kind>>,
}

impl Default for SmallTalk {
    fn default() -> Self {
        SmallTalk::new()
    }
}

impl SmallTalk {
    /// The built-in phrase lists.
    pub fn new() -> SmallTalk {
        let mut patterns = Vec::new();
        let mut kinds = Vec::new();
        for (kind, phrases) in PHRASES {
            for p in *phrases {
                patterns.push(fold(p));
                kinds.push(Some(*kind));
            }
        }
        for f in FILLER {
            patterns.push(fold(f));
            kinds.push(None);
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("static phrase list");
        SmallTalk { automaton, kinds }
    }

    /// The kind of small talk when the folded message is nothing else (the last kind named wins: "谢谢，再见"
    /// is a goodbye). Around the phrases may stand punctuation, the built-in filler, and words that `filler`
    /// says carry no topic (the knowledge base's stop words: 给我讲个笑话吧 is a joke), but never a negation
    /// ("谢谢，还是不行" reports a problem).
    pub fn classify(&self, folded: &str, filler: impl Fn(&str) -> bool) -> Option<Kind> {
        if folded.chars().count() > 40 {
            return None;
        }
        // A phrase inside a longer Latin word (hi in history) does not count.
        let phrases = || {
            self.automaton
                .find_iter(folded)
                .filter(|m| whole_word(folded.as_bytes(), m.start(), m.end()))
        };
        // Most messages hold no small-talk phrase: they are not looked at word by word.
        if !phrases().any(|m| self.kinds[m.pattern().as_usize()].is_some()) {
            return None;
        }
        let mut kind = None;
        let mut last = 0;
        for m in phrases() {
            if !is_gap(&folded[last..m.start()], &filler) {
                return None;
            }
            if let Some(k) = self.kinds[m.pattern().as_usize()] {
                kind = Some(k);
            }
            last = m.end();
        }
        if !is_gap(&folded[last..], &filler) {
            return None;
        }
        kind
    }
}

/// Whether a stretch between phrases holds only punctuation, spaces, emoji and the like, and words that
/// `filler` accepts and that negate nothing.
fn is_gap(text: &str, filler: impl Fn(&str) -> bool) -> bool {
    text.split(|c: char| !c.is_alphanumeric() || matches!(c as u32, 0x1F000..=0x1FAFF))
        .filter(|word| !word.is_empty())
        .all(|word| !negates(word) && filler(word))
}

/// Whether a word negates: "thanks, not yet" and "好的，但没用" go on about a problem.
fn negates(word: &str) -> bool {
    word.contains(['不', '没', '别', '未', '无'])
        || ["no", "not", "never", "nothing", "nope", "still", "but"].contains(&word)
}

/// The reply to small talk, in the user's language, steering back to the problem.
pub fn reply(kind: Kind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (Kind::Greeting, Lang::Zh) => "你好！请直接说说遇到了什么问题，我来帮你查。",
        (Kind::Greeting, Lang::En) => "Hello! Tell me what went wrong and I will look it up for you.",
        (Kind::Thanks, Lang::Zh) => "不客气！还有别的问题随时问我。",
        (Kind::Thanks, Lang::En) => "You're welcome! Ask me anytime if something else comes up.",
        (Kind::Bot, Lang::Zh) => {
            "我是自动客服助手，能回答常见问题；需要人工客服时发送“转人工”即可。请说说你的问题。"
        }
        (Kind::Bot, Lang::En) => {
            "I'm the automated support assistant: I answer common questions, and \"talk to a human\" brings in a person. What is your problem?"
        }
        (Kind::Joke, Lang::Zh) => "笑话我不太会讲，解决问题倒是拿手 😄 请说说遇到了什么问题。",
        (Kind::Joke, Lang::En) => {
            "Jokes aren't my strong suit, but problems are 😄 Tell me what you need help with."
        }
        (Kind::Goodbye, Lang::Zh) => "再见！有问题随时回来找我。",
        (Kind::Goodbye, Lang::En) => "Goodbye! Come back anytime you need help.",
        (Kind::Greeting, Lang::Ja) => {
            "こんにちは!お困りの内容をそのまま書いてください。お調べします。"
        }
        (Kind::Thanks, Lang::Ja) => "どういたしまして!ほかにもご質問があればいつでもどうぞ。",
        (Kind::Bot, Lang::Ja) => {
            "私は自動応答のサポートアシスタントで、よくある質問にお答えします。担当者と話したいときは「担当者と話す」と送ってください。どのようなことでお困りですか?"
        }
        (Kind::Joke, Lang::Ja) => {
            "冗談は苦手ですが、問題の解決なら得意です 😄 お困りの内容を教えてください。"
        }
        (Kind::Goodbye, Lang::Ja) => "さようなら!またいつでもどうぞ。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl SmallTalk {
        fn of(&self, text: &str) -> Option<Kind> {
            self.classify(&fold(text), |_| false)
        }
    }

    #[test]
    fn small_talk_alone_is_recognised() {
        let st = SmallTalk::new();
        assert_eq!(st.of("你好"), Some(Kind::Greeting));
        assert_eq!(st.of("您好！！"), Some(Kind::Greeting));
        assert_eq!(st.of("Hi there :)"), Some(Kind::Greeting));
        assert_eq!(st.of("thank you so much"), Some(Kind::Thanks));
        assert_eq!(st.of("你是机器人吗？"), Some(Kind::Bot));
        assert_eq!(st.of("are you a bot?"), Some(Kind::Bot));
        assert_eq!(st.of("讲个笑话"), Some(Kind::Joke));
        assert_eq!(st.of("谢谢，再见"), Some(Kind::Goodbye));
        assert_eq!(st.of("bye!"), Some(Kind::Goodbye));
        assert_eq!(st.of("こんにちは!"), Some(Kind::Greeting));
        assert_eq!(st.of("どうもありがとうございました"), Some(Kind::Thanks));
        assert_eq!(st.of("あなたはロボットですか?"), Some(Kind::Bot));
        assert_eq!(st.of("さようなら"), Some(Kind::Goodbye));
        assert_eq!(st.of("こんにちは、パスワードを忘れました"), None);
        // Asking whether anyone is there is a greeting, not a question to match.
        assert_eq!(st.of("有人吗？？"), Some(Kind::Greeting));
        assert_eq!(st.of("is anybody there?"), Some(Kind::Greeting));
        assert_eq!(st.of("有人在吗 我的卡丢了"), None);
    }

    #[test]
    fn words_without_a_topic_may_stand_around_small_talk_but_no_negation() {
        let st = SmallTalk::new();
        let stop = ["给我", "能", "please", "me", "还是", "但是", "行", "but"];
        let of = |text: &str| st.classify(&fold(text), |w| stop.contains(&w));
        assert_eq!(of("给我讲个笑话吧"), Some(Kind::Joke));
        assert_eq!(of("你能讲个笑话吗"), Some(Kind::Joke));
        assert_eq!(of("please tell me a joke"), Some(Kind::Joke));
        assert_eq!(of("谢谢，还是不行"), None);
        assert_eq!(of("thanks but no"), None);
        assert_eq!(of("谢谢，但是密码"), None);
    }

    #[test]
    fn a_question_with_a_greeting_is_not_small_talk() {
        let st = SmallTalk::new();
        assert_eq!(st.of("你好，我的卡丢了"), None);
        assert_eq!(st.of("hi my card was declined"), None);
        assert_eq!(st.of("thanks but the code never arrived"), None);
        assert_eq!(st.of("history"), None);
        assert_eq!(st.of("转人工"), None);
        assert_eq!(st.of(""), None);
    }
}
