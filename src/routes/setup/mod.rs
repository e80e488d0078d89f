//! First run: while no user exists, `/setup` creates the first admin. Then it is gone.

pub mod get;
pub mod post;

use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate, Default)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub csrf_token: String,
    pub name: String,
    pub email: String,
    pub name_error: Option<&'static str>,
    pub email_error: Option<&'static str>,
    pub password_error: Option<String>,
}
