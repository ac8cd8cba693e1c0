//! A knowledge base written with one question per entry and language: the matcher also reads each answer, so
//! a message in the answer's words finds the entry.

mod faq_support;

use faq_support::team_faq;
use supportbot::faq::Action;

const THIN_FAQ: &str = r#"
[[faq]]
id = "deposit-refund"
category = "deposit"
questions.zh = ["押金什么时候退"]
questions.en = ["When do I get my deposit back?"]
answer.zh = "还车验车无异常后，车辆押金在1个工作日内解冻。信用卡额度恢复以发卡行为准。"
answer.en = "Once the car passes the return inspection, the deposit hold is lifted within 1 working day. Your card limit comes back as your bank decides."

[[faq]]
id = "book-car"
category = "booking"
questions.zh = ["怎么订车"]
questions.en = ["How do I book a car?"]
answer.zh = "在App首页选择取还车门店和时间，挑选车型后下单支付即可。最早可提前90天预订。"
answer.en = "Choose the pick-up store and times on the app's home page, pick a model and pay to book. You can book up to 90 days ahead."

[[faq]]
id = "late-return"
category = "booking"
questions.zh = ["晚点还车怎么办"]
questions.en = ["What if I return the car late?"]
answer.zh = "超时4小时内按小时计费，超过4小时按一天收费。可在订单页申请续租。"
answer.en = "Up to 4 hours over time is charged by the hour, more than that as a full day. You can extend the rental on the order page."

[[faq]]
id = "fuel-policy"
category = "vehicle"
questions.zh = ["油要加满吗"]
questions.en = ["Do I need to refuel before returning?"]
answer.zh = "取车时油量是多少，还车时补到同样刻度即可，少的部分按油价加服务费收取。"
answer.en = "Return the car with as much fuel as it had at pick-up; what is missing is charged at the pump price plus a service fee."
"#;

#[test]
fn a_message_in_the_words_of_an_answer_finds_its_one_question_entry() {
    let faq = team_faq(THIN_FAQ);
    // 验车 and 解冻 appear only in the deposit answer; "inspection" and "hold lifted" only in its English one.
    for q in [
        "验车以后多久解冻",
        "after the return inspection how long until the hold is lifted",
    ] {
        let d = faq.decide(q);
        assert_eq!(
            (d.action, d.faq.as_deref()),
            (Action::Answer, Some("deposit-refund")),
            "{q}: {d:?}"
        );
    }
    // The entries' own questions are still answered, and what no answer speaks of is not.
    let d = faq.decide("晚点还车怎么办");
    assert_eq!(d.faq.as_deref(), Some("late-return"), "{d:?}");
    let d = faq.decide("你们有没有电动车充电桩");
    assert_ne!(d.action, Action::Answer, "{d:?}");
}
