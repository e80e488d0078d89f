//! Every route asked by an anonymous visitor, by staff and by an admin: the answer each
//! must get.

use crate::helpers::*;

crate::on_both_backends!(every_route_answers_each_role_as_it_should);

/// What a role gets on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 303 to the login page.
    Login,
    Ok,
    Forbidden,
    /// The API's own 401, whatever the session.
    Unauthorized,
}

use Answer::*;

const PAGES: &[(&str, Answer, Answer)] = &[
    // (path, staff, admin); anonymous always goes to the login page.
    ("/engajar", Ok, Ok),
    ("/engajar/publicos", Ok, Ok),
    ("/engajar/publicos/importar", Ok, Ok),
    ("/engajar/publicos/layout.csv", Ok, Ok),
    ("/engajar/publicos/layout", Ok, Ok),
    ("/engajar/campanhas", Ok, Ok),
    ("/engajar/campanhas/nova", Ok, Ok),
    ("/engajar/campanhas/1", Ok, Ok),
    ("/engajar/campanhas/1/previa", Ok, Ok),
    ("/engajar/campanhas/1/editar", Ok, Ok),
    ("/admin/configuracoes/canais", Forbidden, Ok),
    ("/admin/configuracoes/canais/whatsapp", Forbidden, Ok),
    ("/admin/configuracoes/canais/sms", Forbidden, Ok),
    ("/admin/configuracoes/whatsapp/modelos", Forbidden, Ok),
    ("/contatos", Ok, Ok),
    ("/contatos?q=ana", Ok, Ok),
    ("/fila", Ok, Ok),
    ("/conta", Ok, Ok),
    ("/admin/segmentos", Forbidden, Ok),
    ("/admin/usuarios", Forbidden, Ok),
    ("/admin/nao-perturbe", Forbidden, Ok),
    ("/admin/configuracoes", Forbidden, Ok),
    ("/admin/tokens", Forbidden, Ok),
    ("/admin/auditoria", Forbidden, Ok),
    ("/lgpd", Forbidden, Ok),
    ("/lgpd?q=11987654321", Forbidden, Ok),
    ("/lgpd/pedidos", Forbidden, Ok),
    ("/admin/configuracoes/retencao", Forbidden, Ok),
];

/// Forms: anonymous go to login; staff on admin forms get 403 even with a valid token.
const FORMS: &[(&str, Answer)] = &[
    ("/admin/segmentos", Forbidden),
    ("/admin/segmentos/1/renomear", Forbidden),
    ("/admin/segmentos/1/excluir", Forbidden),
    ("/admin/usuarios", Forbidden),
    ("/admin/usuarios/1/papel", Forbidden),
    ("/admin/usuarios/1/situacao", Forbidden),
    ("/admin/usuarios/1/senha", Forbidden),
    ("/admin/nao-perturbe", Forbidden),
    ("/admin/nao-perturbe/lista", Forbidden),
    ("/admin/nao-perturbe/1/remover", Forbidden),
    ("/admin/configuracoes", Forbidden),
    ("/admin/configuracoes/canais", Forbidden),
    ("/admin/configuracoes/canais/whatsapp", Forbidden),
    ("/admin/configuracoes/canais/sms", Forbidden),
    ("/admin/configuracoes/whatsapp/modelos", Forbidden),
    ("/admin/tokens", Forbidden),
    ("/admin/tokens/1/revogar", Forbidden),
    ("/admin/publicos/1/excluir", Forbidden),
    ("/lgpd/eliminar", Forbidden),
    ("/lgpd/revogar", Forbidden),
    ("/contatos/1/mesclar", Forbidden),
    ("/admin/configuracoes/retencao", Forbidden),
    ("/lgpd/pedidos", Forbidden),
    ("/lgpd/pedidos/1/responder", Forbidden),
];

const API: &[(&str, &str)] = &[
    ("POST", "/api/v1/interactions"),
    ("GET", "/api/v1/contacts/lookup?value=11987654321"),
];

fn answer_of(response: &reqwest::Response) -> Option<Answer> {
    match response.status().as_u16() {
        200 => Some(Ok),
        403 => Some(Forbidden),
        401 => Some(Unauthorized),
        303 => {
            let to = response.headers()["location"].to_str().unwrap();
            to.starts_with("/login").then_some(Login)
        }
        _ => None,
    }
}

async fn every_route_answers_each_role_as_it_should(app: TestApp) {
    app.add_admin();
    app.add_staff();
    let segment = app.add_segment("Um");
    engajar::models::campaign::Campaign::create(
        &mut app.db(),
        &engajar::models::campaign::CampaignSpec {
            name: "Rascunho".into(),
            channel: engajar::campaigns::CampaignChannel::Email,
            target: engajar::campaigns::Target::Segment(segment),
            subject: "Oi".into(),
            body: "Olá, @PrimeiroNome".into(),
            fallbacks: String::new(),
            schedule: engajar::campaigns::schedule::Schedule::Now,
            template_id: None,
            template_params: Vec::new(),
            options: Default::default(),
        },
        true,
        None,
        1,
    )
    .unwrap();
    // The opt-out page is public, and a token it cannot verify names nothing.
    assert_eq!(app.get("/descadastrar/AAAA").await.status(), 404);
    // Anonymous.
    for (path, _, _) in PAGES {
        assert_eq!(
            answer_of(&app.get(path).await),
            Some(Login),
            "anonymous GET {path}"
        );
    }
    for (path, _) in FORMS {
        let response = app.post_form(path, &[]).await;
        assert_eq!(answer_of(&response), Some(Login), "anonymous POST {path}");
    }
    for (method, path) in API {
        let request = app.client.request(method.parse().unwrap(), app.url(path));
        let response = request.send().await.unwrap();
        assert_eq!(
            answer_of(&response),
            Some(Unauthorized),
            "anonymous {method} {path}"
        );
    }
    // Staff, then admin: a session is no API credential either.
    for (email, password, is_admin) in [
        (STAFF_EMAIL, STAFF_PASSWORD, false),
        (ADMIN_EMAIL, ADMIN_PASSWORD, true),
    ] {
        assert_eq!(location(&app.login(email, password).await), "/engajar");
        for (path, staff, admin) in PAGES {
            let expected = if is_admin { *admin } else { *staff };
            assert_eq!(
                answer_of(&app.get(path).await),
                Some(expected),
                "{email} GET {path}"
            );
        }
        if !is_admin {
            let token = app.csrf_token("/conta").await;
            for (path, expected) in FORMS {
                let response = app.post_form(path, &[("csrf_token", &token)]).await;
                assert_eq!(answer_of(&response), Some(*expected), "staff POST {path}");
            }
        }
        for (method, path) in API {
            let request = app.client.request(method.parse().unwrap(), app.url(path));
            let response = request.send().await.unwrap();
            assert_eq!(
                answer_of(&response),
                Some(Unauthorized),
                "{email} {method} {path}"
            );
        }
        app.logout().await;
    }
    // Nothing the refused requests carried was written.
    use diesel::prelude::*;
    let segments: i64 = engajar::schema::segments::table
        .count()
        .get_result(&mut app.db())
        .unwrap();
    assert_eq!(segments, 1);
}
