//! E-mail through a real SMTP server (started by the test) and through the outbox folder.

use startblok_app::mail::{Mail, Mailer};
use startblok_testsmtp::TestSmtp;

fn example() -> Mail {
    Mail {
        to: "Beheerder <beheer@school.test>".into(),
        subject: "Uw koppeling met Boom testcentrum – één stap".into(),
        text: "Beste Ayşe Çelik,\n\nOpen deze link:\nhttps://startblok.test/sleutel/abc_DEF-123?x=1&y=2\n\nMet vriendelijke groet,\nStartblok".into(),
    }
}

#[tokio::test]
async fn a_mail_arrives_over_smtp_as_plain_text_and_html() {
    let smtp = TestSmtp::start().await;
    let mailer = Mailer::smtp(&smtp.url(), "Startblok <noreply@startblok.test>").unwrap();
    assert!(mailer.delivers());
    mailer.send(&example()).await.unwrap();
    let m = smtp.wait_for("beheer@school.test", "één stap").await;
    assert_eq!(m.mail_from, "noreply@startblok.test");
    assert_eq!(
        m.header("Subject").unwrap(),
        "Uw koppeling met Boom testcentrum – één stap"
    );
    let text = m.text();
    assert!(text.contains("Beste Ayşe Çelik,"), "{text}");
    assert!(text.contains("https://startblok.test/sleutel/abc_DEF-123?x=1&y=2"));
    let html = m.html();
    assert!(html.contains("lang=\"nl\""), "{html}");
    assert!(html.contains("<a href=\"https://startblok.test/sleutel/abc_DEF-123?x=1&amp;y=2\">"));
    assert!(mailer.sent().is_none(), "SMTP keeps no outbox");
    assert!(
        Mailer::smtp("geen url", "a@b.nl").is_err(),
        "a bad SMTP URL is refused at start"
    );
}

#[tokio::test]
async fn without_smtp_mails_go_to_the_outbox_and_are_listed() {
    let dir = std::env::temp_dir().join(format!("startblok-outbox-{}", uuid_like()));
    let mailer = Mailer::outbox(dir.clone(), "Startblok <noreply@startblok.test>").unwrap();
    assert!(!mailer.delivers());
    mailer.send(&example()).await.unwrap();
    let mut second = example();
    second.subject = "Tweede".into();
    mailer.send(&second).await.unwrap();
    let sent = mailer.sent().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].mail.subject, "Tweede", "newest first");
    assert_eq!(sent[1].mail, example());
    // A new mailer on the same folder (a restart) sees the same mails.
    let again = Mailer::outbox(dir.clone(), "x@y.nl").unwrap();
    assert_eq!(again.sent().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
