//! The login page and its form.

pub mod get;
pub mod post;

use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf_token: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}
