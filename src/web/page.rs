//! What every logged-in page needs around its content: the user, the menu, the CSRF token.

use std::future::{Ready, ready};

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::session::TypedSession;

#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: CurrentUser,
    pub csrf_token: String,
    /// The request path, so the menu can mark where the user is.
    pub path: String,
}

impl PageCtx {
    pub fn is_admin(&self) -> bool {
        self.user.is_admin()
    }

    /// The menu's entries this user may open, in order.
    pub fn menu(&self) -> Vec<(&'static str, &'static str)> {
        let mut entries = vec![
            ("/engajar", "Engajar"),
            ("/contatos", "Contatos"),
            ("/fila", "Fila"),
        ];
        if self.is_admin() {
            entries.extend([
                ("/admin/segmentos", "Segmentos"),
                ("/admin/usuarios", "Usuários"),
                ("/admin/nao-perturbe", "Não Perturbe"),
                ("/admin/tokens", "Tokens da API"),
                ("/admin/auditoria", "Auditoria"),
                ("/lgpd", "Titulares (LGPD)"),
                ("/admin/configuracoes", "Configurações"),
            ]);
        }
        entries.push(("/conta", "Minha conta"));
        entries
    }

    /// A fresh one-time token for a form that starts work (`models::form_submission`),
    /// good only for the form whose purpose (its action) is `purpose`.
    pub fn once_token(&self, purpose: impl AsRef<str>) -> String {
        crate::models::form_submission::issue(&crate::web::session::new_token(), purpose.as_ref())
    }

    pub fn in_section(&self, prefix: &str) -> bool {
        self.path == prefix || self.path.starts_with(&format!("{prefix}/"))
    }
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(user) = req.extensions().get::<CurrentUser>().cloned() else {
            return ready(Err(AppError::Internal(
                "page context requested on a public route".into(),
            )
            .into()));
        };
        let csrf_token = TypedSession::new(req.get_session()).csrf_token();
        ready(Ok(PageCtx {
            user,
            csrf_token,
            path: req.path().to_string(),
        }))
    }
}
