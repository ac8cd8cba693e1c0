//! Dedicated account managers (`[[customers.managers]]`): a managed customer's new case goes to the manager's own
//! chats at once and is kept from the team's rooms and queue for `[customers] manager_grace_secs`, so the manager
//! can take it first; then it is posted like any other case.

use std::time::Duration;

use supportbot_chat::Shutdown;

use crate::cases;
use crate::config::{split_account, web_login};
use crate::i18n::operator as op;
use crate::store::records::{CaseRecord, CaseStatus, Endpoint, Reserved};
use crate::store::StoreError;

use super::clock;
use super::turn::Turn;
use super::{Engine, Shared};
use crate::store::changes::Changes;

/// How often kept cases are looked at.
const RELEASE_EVERY: Duration = Duration::from_secs(1);

/// Sends a managed customer's new case to the manager's chats and keeps it for them for the grace time.
pub(super) fn reserve(t: &mut Turn<'_>, case: &mut CaseRecord, manager: &str, files: usize) {
    let sh = t.sh;
    let id = case.id();
    let grace = sh.config.customers.manager_grace_secs;
    let text = op::manager_case(sh.op_lang, &id, &case.user_name, grace.div_ceil(60))
        .then(cases::card_text(sh.op_lang, case, files));
    let operator = sh.config.operators.iter().find(|o| o.name == manager);
    // A `web:` account is an inbox page only when it is the manager's own sign-in.
    let sign_in = operator
        .filter(|o| o.web_password.is_some())
        .map(|o| format!("web:{}", web_login(&o.name)));
    for account in operator.iter().flat_map(|o| &o.accounts) {
        let Some((platform, chat)) = split_account(account) else {
            continue;
        };
        if platform == "web" && sign_in.as_ref() != Some(account) {
            continue;
        }
        let to = Endpoint {
            platform: platform.to_string(),
            chat: chat.to_string(),
            conversation: format!("{platform}:{chat}"),
        };
        cases::send_to(
            &mut t.changes,
            &to,
            text.clone(),
            vec![format!("/take {id}")],
            Some(id.clone()),
            true,
        );
    }
    if grace == 0 {
        cases::post_card(&mut t.changes, &sh.config, sh.op_lang, case, files);
        return;
    }
    let until =
        t.changes.now + chrono::Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX / 1000));
    case.reserved_for = Some(manager.to_string());
    case.reserved_until = Some(until);
    cases::save(&mut t.changes, case);
    t.changes
        .set_reserved(case.number, Some(Reserved { until, files }));
}

/// Posts the cards of kept cases whose grace time is over, until `shutdown`.
pub(super) async fn release_loop(engine: Engine, shutdown: Shutdown) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(RELEASE_EVERY) => {}
        }
        let sh = &engine.sh;
        let result = super::retrying(|| async {
            match release_due(sh).await? {
                Some(changes) => sh.commit(changes).await,
                None => Ok(()),
            }
        })
        .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "posting cases kept for account managers failed; trying again");
        }
    }
}

/// The key the releasing step is ordered under (it is no conversation of its own).
const RELEASE_STEP: &str = "system:release";

/// The step that hands due cases to their teams, or `None` when there is nothing to do.
async fn release_due(sh: &Shared) -> Result<Option<Changes>, StoreError> {
    let now = clock::now_for(None, sh.config.hours.timezone.0);
    let mut ch = Changes::new(
        sh.store.begin_step(RELEASE_STEP).await?,
        now,
        format!("release:{}", now.timestamp_millis()),
        None,
    );
    let mut changed = false;
    for (number, reserved) in ch.reserved().await? {
        if now < reserved.until {
            continue;
        }
        ch.set_reserved(number, None);
        changed = true;
        let Some(mut case) = cases::load(&ch, number).await? else {
            continue;
        };
        case.reserved_until = None;
        if case.status == CaseStatus::Open {
            cases::post_card(&mut ch, &sh.config, sh.op_lang, &case, reserved.files);
        }
        cases::save(&mut ch, &case);
    }
    Ok(changed.then_some(ch))
}
