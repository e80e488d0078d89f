//! How names read in messages: the first word is always a name, numerals after it are in
//! capitals, whatever case the file was typed in.

use crate::helpers::*;

crate::on_both_backends!(names_that_look_like_numerals_are_written_as_names,);

async fn names_that_look_like_numerals_are_written_as_names(app: TestApp) {
    app.login_staff().await;
    let segment = app.add_segment("Nomes");
    let rows = [
        person(
            "EMAIL",
            "vivi@exemplo.com.br",
            "VIVI GUEDES",
            "",
            "",
            "",
            "",
        ),
        person("EMAIL", "ivi@exemplo.com.br", "IVI SANTOS", "", "", "", ""),
        person(
            "EMAIL",
            "jp@exemplo.com.br",
            "joão paulo ii",
            "",
            "",
            "",
            "",
        ),
    ];
    let (audience, _) = app
        .import_bytes("nomes.csv", layout_csv(&rows), segment, &[])
        .await;
    let audience = audience.to_string();
    let preview = draft_preview(
        &app,
        &[
            "--name",
            "Nomes",
            "--channel",
            "email",
            "--audience",
            &audience,
            "--subject",
            "Oi @PrimeiroNome",
            "--body",
            "Olá, @Nome.",
        ],
    );
    let mut written: Vec<(String, String, String)> = preview["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["to"].as_str().unwrap().to_string(),
                m["subject"].as_str().unwrap().to_string(),
                m["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    written.sort();
    let expected = [
        ("ivi@exemplo.com.br", "Oi Ivi", "Olá, Ivi Santos."),
        ("jp@exemplo.com.br", "Oi João", "Olá, João Paulo II."),
        ("vivi@exemplo.com.br", "Oi Vivi", "Olá, Vivi Guedes."),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(written, expected);
}

/// A draft campaign made by `engajar campaign create … --draft` with `args` (name,
/// channel, audience, texts), and its `campaign preview --json`.
pub fn draft_preview(app: &TestApp, args: &[&str]) -> serde_json::Value {
    use crate::campaigns::{cli, json};
    let mut create = vec!["campaign", "create"];
    create.extend_from_slice(args);
    create.extend_from_slice(&["--draft", "--json"]);
    let (code, out) = cli(app, &create);
    assert_eq!(code, 0, "{out}");
    let id = json(&out)["id"].to_string();
    let (code, out) = cli(app, &["campaign", "preview", &id, "--json"]);
    assert_eq!(code, 0, "{out}");
    json(&out)
}
