//! Retention clears an import's row values (message, coringas, tag) when their period ends,
//! and keeps who was in the audience: its page, campaigns and Excluir público still see them.

use diesel::prelude::*;
use engajar::schema::{audience_members, audiences};

use crate::campaigns::{cli, json};
use crate::helpers::*;
use crate::names::draft_preview;

crate::on_both_backends!(retention_clears_row_values_and_keeps_the_members,);

async fn retention_clears_row_values_and_keeps_the_members(app: TestApp) {
    app.login_admin().await;
    let segment = app.add_segment("Retenção");
    let rows: Vec<[&str; 13]> = ["11987001001", "11987001002", "11987001003"]
        .iter()
        .enumerate()
        .map(|(i, phone)| {
            [
                "TELEFONE",
                phone,
                "Sua fatura vence amanhã",
                ["Ana Lima", "Bia Reis", "Caio Dias"][i],
                "",
                "",
                "Loja Centro",
                "Rua 1",
                "R$ 10,00",
                "",
                "",
                "",
                "ALTA",
            ]
        })
        .collect();
    let mut ids = Vec::new();
    for name in ["a.csv", "b.csv"] {
        let (id, _) = app
            .import_bytes(name, layout_csv(&rows[..]), segment, &[])
            .await;
        ids.push(id);
    }
    let basis: String = audiences::table
        .find(ids[0])
        .select(audiences::legal_basis)
        .first(&mut app.db())
        .unwrap();
    diesel::update(audiences::table.filter(audiences::id.eq_any(&ids)))
        .set(audiences::created_at.eq(engajar::time::now() - 3 * 86_400))
        .execute(&mut app.db())
        .unwrap();
    let page = "/admin/configuracoes/retencao";
    let field = format!("{basis}__linhas");
    let response = app.submit(page, page, &[(field.as_str(), "1")]).await;
    assert_eq!(location(&response), "/admin/configuracoes/retencao?ok=1");
    let html = app.get_html(page).await;
    assert_eq!(texts(&html, "#next-rows"), vec!["6"]);

    let run = |dry: bool| -> serde_json::Value {
        let mut args = vec!["retention", "run", "--json"];
        if dry {
            args.push("--dry-run");
        }
        json(&cli(&app, &args).1)
    };
    assert_eq!(run(false)["audience_rows"], 6);
    assert_eq!(run(true)["audience_rows"], 0, "each row is cleared once");

    // The values are gone, the members stay.
    type Kept = (Option<String>, Option<String>, Option<String>, String);
    let kept: Vec<Kept> = audience_members::table
        .filter(audience_members::audience_id.eq_any(&ids))
        .select((
            audience_members::message,
            audience_members::coringa1,
            audience_members::tag,
            audience_members::channel_value,
        ))
        .load(&mut app.db())
        .unwrap();
    assert_eq!(kept.len(), 6);
    assert!(
        kept.iter()
            .all(|(m, c, t, v)| m.is_none() && c.is_none() && t.is_none() && !v.is_empty()),
        "{kept:?}"
    );
    let html = app.get_html(&format!("/engajar/publicos/{}", ids[0])).await;
    assert_eq!(texts(&html, "table.members tbody tr").len(), 3);
    assert!(
        texts(&html, "h2")
            .iter()
            .any(|h| h == "Contatos do público (3)")
    );

    // A campaign to it still reaches the three.
    let audience = ids[0].to_string();
    let preview = draft_preview(
        &app,
        &[
            "--name",
            "Depois da retenção",
            "--channel",
            "sms",
            "--audience",
            &audience,
            "--body",
            "Olá, @PrimeiroNome",
        ],
    );
    assert_eq!(preview["recipients"], 3, "{preview}");

    // Excluir público still undoes what the other import created (the contacts are also
    // in the first audience, so they stay; their membership in this one goes).
    let output = crate::cli::engajar(
        &app.database_url,
        &["audience", "delete", &ids[1].to_string(), "--yes"],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let undone: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(undone["deleted_members"], 3, "{undone}");
    assert_eq!(undone["kept_contacts"], 3, "{undone}");
}
