"""The privacy notice, readable before signing in (UK GDPR Articles 13 and 14)."""

from flask import current_app, render_template

from tracker.auth.gate import public
from tracker.orgs.services import current_trust_name
from tracker.privacy import bp
from tracker.retention.rules import NOTICE_DISPOSAL_WORDS, NOTICE_HOLD_WORDS, NOTICE_RULE_WORDS


@bp.route("/privacy")
@public
def notice():
    config = current_app.config
    return render_template(
        "privacy/notice.html",
        controller=current_trust_name(),
        lawful_basis=config["LAWFUL_BASIS"],
        schedule_1_condition=config["SCHEDULE_1_CONDITION"],
        dpo_contact=config["DPO_CONTACT"],
        # From the rules module itself, so the notice says what the disposal command does.
        retention_rules=[*NOTICE_RULE_WORDS.values(), *NOTICE_HOLD_WORDS.values()],
        disposal_words=NOTICE_DISPOSAL_WORDS,
    )
