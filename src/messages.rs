//! Every pt-BR message the code produces (templates hold the rest of the interface text).

pub const LOGIN_FAILED: &str = "E-mail ou senha inválidos.";
pub const LOGIN_REQUIRED_FIELDS: &str = "Informe o e-mail e a senha.";
pub const SESSION_EXPIRED: &str = "Sua sessão terminou por inatividade. Entre de novo.";

/// Too many failed logins: how long to wait, in whole minutes.
pub fn login_throttled(minutes: i64) -> String {
    format!("Muitas tentativas de login sem sucesso. Aguarde {minutes} minuto(s) e tente de novo.")
}

pub const PASSWORD_TOO_SHORT: &str = "A senha deve ter pelo menos 10 caracteres.";
pub const PASSWORD_TOO_LONG: &str = "A senha pode ter no máximo 256 caracteres.";
pub const PASSWORD_SAME_AS_EMAIL: &str = "A senha não pode ser igual ao e-mail.";
pub const PASSWORD_MISMATCH: &str = "As senhas não conferem.";

pub const NAME_REQUIRED: &str = "Informe o nome.";
pub const NAME_TOO_LONG: &str = "O nome pode ter no máximo 100 caracteres.";
pub const ROLE_INVALID: &str = "Escolha o papel: Equipe ou Administrador.";
pub const PASSWORD_BLANK: &str = "A senha não pode ser feita só de espaços.";
pub const USER_CREATED: &str = "Usuário criado.";
pub const USER_ROLE_CHANGED: &str = "Papel do usuário alterado.";
pub const USER_DISABLED: &str = "Usuário desativado. As sessões dele foram encerradas.";
pub const USER_ENABLED: &str = "Usuário reativado.";
pub const USER_PASSWORD_RESET: &str = "Senha redefinida.";
pub const USER_EMAIL_TAKEN: &str = "Já existe um usuário com esse e-mail.";
pub const USER_LAST_ADMIN: &str =
    "Não é possível: a plataforma ficaria sem nenhum administrador ativo.";
pub const PASSWORD_CHANGED: &str = "Senha alterada.";
pub const PASSWORD_CURRENT_WRONG: &str = "A senha atual não confere.";
pub const EMAIL_INVALID: &str = "Informe um e-mail válido.";

pub const SEGMENT_NAME_REQUIRED: &str = "Informe o nome do segmento.";
pub const SEGMENT_NAME_TOO_LONG: &str = "O nome do segmento pode ter no máximo 100 caracteres.";
pub const SEGMENT_NAME_INVALID: &str = "O nome do segmento contém caracteres inválidos.";
pub const SEGMENT_EXISTS: &str = "Já existe um segmento com esse nome.";
pub const SEGMENT_CREATED: &str = "Segmento criado.";
pub const SEGMENT_RENAMED: &str = "Segmento renomeado.";
pub const SEGMENT_DELETED: &str = "Segmento excluído.";

pub const FORBIDDEN_TITLE: &str = "Acesso negado";
pub const FORBIDDEN: &str = "Esta página é restrita a administradores.";
pub const CSRF_TITLE: &str = "Formulário expirado";
pub const CSRF_INVALID: &str =
    "O formulário expirou ou não veio desta página. Volte, recarregue a página e tente de novo.";
pub const NOT_FOUND_TITLE: &str = "Página não encontrada";
pub const NOT_FOUND: &str = "O endereço acessado não existe ou não está mais disponível.";
pub const BAD_REQUEST_TITLE: &str = "Requisição inválida";
pub const BAD_REQUEST: &str = "Os dados enviados não puderam ser lidos.";
pub const TOO_LARGE_TITLE: &str = "Envio grande demais";
pub const TOO_LARGE: &str =
    "O formulário enviado passa do tamanho aceito. Volte, confira os campos e envie de novo.";
pub const UNAVAILABLE_TITLE: &str = "Serviço indisponível";
pub const UNAVAILABLE: &str =
    "O banco de dados não está respondendo no momento. Aguarde alguns instantes e tente de novo.";
pub const INTERNAL_TITLE: &str = "Erro interno";
pub const INTERNAL: &str =
    "Algo deu errado do nosso lado. Tente de novo; se o problema continuar, avise o administrador.";

pub const IMPORT_DESCRIPTION_REQUIRED: &str = "Informe a descrição do público.";
pub const IMPORT_DESCRIPTION_TOO_LONG: &str = "A descrição pode ter no máximo 200 caracteres.";
pub const IMPORT_DESCRIPTION_INVALID: &str =
    "A descrição contém caracteres de controle (invisíveis), que não são aceitos.";
pub const IMPORT_UPLOAD_MISSING: &str = "O arquivo desta importação não está disponível.";
pub const IMPORT_UPLOAD_NOT_HERE: &str =
    "O arquivo enviado não foi encontrado neste servidor. Envie-o de novo.";
pub const IMPORT_DATABASE_FAILED: &str = "A importação foi interrompida por um erro no banco \
     de dados; nada foi gravado. Envie o arquivo de novo.";
pub const IMPORT_SEGMENT_REQUIRED: &str = "Escolha um segmento.";
pub const IMPORT_BASIS_REQUIRED: &str = "Escolha a autorização de processamento (base legal).";
pub const IMPORT_FILE_REQUIRED: &str = "Escolha o arquivo preenchido no layout.";
pub const VALIDATION_NOT_IMPORTABLE: &str =
    "Este arquivo não pode ser importado: corrija os problemas abaixo e envie de novo.";
pub const VALIDATION_EXPIRED: &str = "Esta validação expirou e o arquivo não está mais guardado: \
     clique em Corrigir e escolha o arquivo de novo.";
pub const VALIDATION_SEGMENT_GONE: &str =
    "O segmento escolhido foi excluído: clique em Corrigir e escolha outro segmento.";
pub const VALIDATION_REFILL_FILE: &str = "Os campos foram mantidos: escolha o arquivo corrigido.";

pub const DND_ADDED: &str = "Adicionado à lista Não Perturbe.";
pub const DND_REMOVED: &str = "Removido da lista Não Perturbe.";
pub const DND_INVALID: &str =
    "Informe um telefone (com DDD) ou um e-mail válido, como na importação.";
pub const DND_ALREADY: &str = "Esse telefone ou e-mail já está na lista.";
pub const DND_LIST_REQUIRED: &str = "Escolha o arquivo com a lista (TXT ou CSV).";
pub const DND_LIST_TOO_LARGE: &str =
    "A lista passa do limite de 64 MB. Divida-a em partes menores.";

pub const SETTINGS_SAVED: &str = "Configurações salvas.";
pub const SETTINGS_UPLOAD_INVALID: &str = "Informe um limite entre 1 e 2048 MB.";

pub const TOKEN_CREATED: &str = "Token criado.";
pub const TOKEN_REVOKED: &str = "Token revogado. Integrações que o usavam deixam de ser aceitas.";
pub const TOKEN_NAME_REQUIRED: &str = "Informe um nome para o token.";
pub const TOKEN_NAME_INVALID: &str =
    "O nome pode ter no máximo 100 caracteres, sem caracteres de controle.";

pub const QUEUE_ATTENDED: &str = "Interação marcada como atendida.";
pub const QUEUE_UNDONE: &str = "Atendimento desfeito: a interação voltou ao seu lugar na fila.";
pub const QUEUE_UNDO_REFUSED: &str =
    "Só dá para desfazer um atendimento seu dos últimos 15 minutos.";

/// A contact as row messages name it: its number and name.
pub fn contact_label(id: i64, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("#{id} {name}"),
        None => format!("#{id} (sem nome)"),
    }
}

/// How messages call a row's channel key.
pub fn channel_key_name(kind: crate::domain::RecordType) -> &'static str {
    match kind {
        crate::domain::RecordType::Telefone => "telefone",
        crate::domain::RecordType::Email => "e-mail",
    }
}

/// `identity_conflict`: the row's own keys lead to two different contacts.
pub fn identity_conflict_own(first: &str, first_by: &str, second: &str, second_by: &str) -> String {
    format!(
        "Esta linha aponta para dois contatos diferentes: {first} (pelo {first_by}) e {second} \
         (pelo {second_by}). Nada foi mesclado: corrija a linha ou os cadastros e importe de novo."
    )
}

/// `identity_conflict`: rows linked by a shared key lead to two different contacts.
pub fn identity_conflict_group(first: &str, second: &str) -> String {
    format!(
        "Esta linha compartilha telefone, e-mail, CPF/CNPJ ou CODCLIENTE com outras linhas do \
         arquivo que, juntas, apontam para dois contatos diferentes: {first} e {second}. Nada \
         foi mesclado: corrija as linhas ou os cadastros e importe de novo."
    )
}

/// `identity_conflict`: rows linked by a shared key carry different CPF/CNPJs.
pub const IDENTITY_CONFLICT_DOCUMENTS: &str = "Esta linha compartilha telefone, e-mail ou \
     CODCLIENTE com outras linhas do arquivo que trazem CPF/CNPJ diferentes: não podem ser a \
     mesma pessoa. Nada foi mesclado: corrija as linhas e importe de novo.";

pub const REPEATED_DOCUMENT_RESOLVED: &str = "Marcado como resolvido.";

pub const INVALID_TEXT_TITLE: &str = "Caracteres inválidos";

/// A field held control characters (NUL, ESC…): nothing was saved.
pub fn invalid_text(label: &str) -> String {
    format!(
        "O campo «{label}» contém caracteres de controle (invisíveis), que não são aceitos. \
         Nada foi salvo: volte, apague-os (ou digite o valor de novo) e envie outra vez."
    )
}

/// What a form or query field is called on screen.
pub fn field_label(name: &str) -> &str {
    match name {
        "q" => "Buscar",
        "email" => "E-mail",
        "password" | "current" => "Senha",
        "password_confirm" => "Repita a senha",
        "name" | "nome" => "Nome",
        "role" => "Papel",
        "descricao" => "Descrição",
        "segmento" => "Segmento",
        "autorizacao" => "Autorização de processamento",
        "valor" | "value" => "Telefone ou e-mail",
        "next" => "Endereço de retorno",
        "usuario" => "Usuário",
        "acao" => "Ação",
        other => other,
    }
}

pub const BUSY_TITLE: &str = "Aguarde um pouco";
pub const UPLOADS_PER_USER: &str =
    "Você já tem dois envios em andamento. Aguarde um deles terminar e envie de novo.";
pub const UPLOADS_BUSY: &str =
    "Muitos arquivos estão sendo enviados agora. Aguarde alguns instantes e envie de novo.";
pub const SPOOL_FULL: &str = "O espaço para arquivos aguardando importação está cheio. Aguarde \
     as importações na fila terminarem e envie de novo; se continuar, avise o administrador.";
pub const DRY_RUN_BUSY: &str = "Outra validação está em andamento neste servidor. Aguarde \
     alguns instantes e clique em Validar sem importar de novo.";

pub const TOKEN_VALIDITY_INVALID: &str = "Escolha uma validade da lista.";

/// Every action the app records, with its pt-BR name.
pub const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("login", "Login"),
    ("login_failed", "Login recusado"),
    ("login_throttled", "Login bloqueado por tentativas"),
    (
        "password_change_failed",
        "Senha atual errada em Minha conta",
    ),
    ("logout_everywhere", "Saiu de todos os dispositivos"),
    ("document_conflict_resolved", "CPF/CNPJ repetido resolvido"),
    ("setup", "Configuração inicial"),
    ("import", "Importação de público"),
    ("segment_create", "Segmento criado"),
    ("segment_rename", "Segmento renomeado"),
    ("segment_delete", "Segmento excluído"),
    ("user_create", "Usuário criado"),
    ("user_role", "Papel alterado"),
    ("user_disable", "Usuário desativado"),
    ("user_enable", "Usuário reativado"),
    ("user_password_reset", "Senha redefinida"),
    ("password_change", "Senha alterada pelo próprio usuário"),
    ("dnd_add", "Não Perturbe: adicionado"),
    ("dnd_remove", "Não Perturbe: removido"),
    ("dnd_upload", "Não Perturbe: lista enviada"),
    ("settings", "Configurações alteradas"),
    ("token_create", "Token criado"),
    ("token_revoke", "Token revogado"),
    ("interaction_attend", "Interação atendida"),
    ("interaction_unattend", "Atendimento desfeito"),
    ("audience_delete", "Público excluído"),
    ("contact_view", "Contato consultado"),
    ("audience_view", "Contatos de um público consultados"),
    ("rejected_export", "Linhas rejeitadas baixadas"),
    ("contacts_export", "Contatos exportados"),
    ("contact_edit", "Contato alterado"),
    ("contact_merge", "Contatos mesclados"),
    ("titular_report", "Relatório do titular consultado"),
    ("titular_export", "Dados do titular exportados"),
    ("titular_erase", "Dados do titular eliminados"),
    ("titular_revoke", "Consentimento revogado"),
    ("retention_settings", "Prazos de retenção alterados"),
    ("retention_run", "Retenção aplicada"),
    ("titular_request", "Pedido de titular registrado"),
    ("titular_request_answer", "Pedido de titular respondido"),
    ("campaign_create", "Campanha criada"),
    ("campaign_update", "Campanha alterada"),
    ("campaign_schedule", "Campanha agendada"),
    ("campaign_pause", "Campanha pausada"),
    ("campaign_resume", "Campanha retomada"),
    ("campaign_cancel", "Campanha cancelada"),
    ("campaign_delete", "Campanha excluída"),
    ("campaign_resend_uncertain", "Campanha: incertas reenviadas"),
    ("campaign_test_send", "Campanha: envio de teste"),
    ("campaign_export", "Campanha: envios exportados"),
    ("unsubscribe", "Descadastro pelo link do e-mail"),
    ("unsubscribe_typed", "Descadastro pela página pública"),
    ("channel_settings", "Canais alterados"),
];

/// The API's error messages (JSON `message`).
pub const API_UNAVAILABLE: &str =
    "O banco de dados não está respondendo; tente de novo em instantes.";
pub const API_TOKEN_MISSING: &str = "Envie o cabeçalho Authorization: Bearer TOKEN.";
pub const API_TOKEN_INVALID: &str = "Token inválido, revogado ou expirado.";
pub const API_PHONE_INVALID: &str = "value não é um telefone válido (com DDD).";
pub const API_EMAIL_INVALID: &str = "value não é um e-mail válido.";
pub const API_TEXT_EMPTY: &str = "text não pode ser vazio.";
pub const API_TEXT_TOO_LONG: &str = "text passa de 4.096 caracteres, o máximo de uma mensagem.";
pub const API_AT_OUT_OF_RANGE: &str =
    "at deve estar entre 2000-01-01 e, no máximo, um dia à frente de agora.";
pub const API_VALUE_INVALID: &str = "value não é um telefone (com DDD) nem um e-mail válido.";

pub fn api_invalid_text(field: &str) -> String {
    format!("{field} contém caracteres de controle (como NUL ou ESC), que não são aceitos.")
}

pub fn api_rate_limited(per_second: impl std::fmt::Display) -> String {
    format!(
        "Limite de {per_second} requisições por segundo deste token atingido; tente de novo em instantes."
    )
}

pub fn api_unreadable_body(e: &dyn std::fmt::Display) -> String {
    format!("Corpo ilegível: {e}")
}

pub fn api_invalid_json(e: &dyn std::fmt::Display) -> String {
    format!("JSON inválido: {e}. Esperado: {{\"channel\",\"value\",\"text\",\"at\"}}.")
}

pub const CONFLICT_TITLE: &str = "Ação não permitida";

pub const CLI_AUTHOR: &str = "Linha de comando";

pub fn upload_too_large(max_mb: impl std::fmt::Display) -> String {
    format!("O arquivo passa do limite de {max_mb} MB. Divida-o em partes menores.")
}

/// A run paused by its failure streak.
pub fn auto_paused(failures: i64, error: &str) -> String {
    format!(
        "Pausada automaticamente após {failures} falhas seguidas. Último erro: {error}. \
         Corrija a causa e use Retomar."
    )
}

pub const UNCERTAIN_AFTER_CRASH: &str = "O servidor parou enquanto entregava esta mensagem: o provedor pode ou não tê-la recebido. Use Reenviar incertas para enviar de novo.";

/// Campaigns: the composer's, the preview's and the dispatcher's words.
pub mod campaign {
    /// A provider's failure as a person reads it, from its code (`channels::SendError`).
    pub fn send_failure(code: &str) -> String {
        match code {
            "connection" => "o servidor do provedor não pôde ser alcançado (conexão recusada \
                             ou rede indisponível); confira o endereço em Configurações → Canais"
                .into(),
            "timeout" => "o provedor não respondeu a tempo".into(),
            "template" => crate::messages::whatsapp::TEMPLATE_NOT_FOUND.into(),
            "401" | "403" | "190" | "535" => "o provedor recusou as credenciais: confira o \
                                             token ou a senha em Configurações → Canais"
                .into(),
            "429" | "130429" | "131056" | "4" | "80007" | "421" => {
                "o provedor pediu para reduzir o ritmo de envio".into()
            }
            other => format!("o provedor recusou o envio (código {other})"),
        }
    }

    pub const NAME_REQUIRED: &str = "Informe o nome da campanha.";
    pub const NAME_TOO_LONG: &str = "O nome pode ter até 200 caracteres.";
    pub const CHANNEL_REQUIRED: &str = "Escolha o canal.";
    pub const CHANNEL_UNAVAILABLE: &str =
        "Este canal ainda não está disponível: por enquanto, use E-mail.";
    pub const TARGET_REQUIRED: &str = "Escolha um público ou um segmento.";
    pub const AUDIENCE_NOT_FOUND: &str = "Público não encontrado.";
    pub const AUDIENCE_NOT_READY: &str = "Este público ainda não terminou de ser importado (ou falhou): escolha um público concluído.";
    pub const SEGMENT_NOT_FOUND: &str = "Segmento não encontrado.";
    pub const SCHEDULE_PAST: &str = "A data e a hora escolhidas já passaram.";
    pub const SCHEDULE_UNTIL_PAST: &str =
        "A data final já passou: nenhuma execução aconteceria. Escolha uma data final futura.";
    pub const SCHEDULE_NO_OCCURRENCE: &str = "Nenhum envio cabe até a data final: com esses \
         dias e esse horário, não há execução antes dela. Escolha uma data final mais adiante \
         ou outros dias.";

    /// A draft sent after its schedule stopped fitting: what is wrong and what to do.
    pub fn draft_schedule_stale(problem: &str) -> String {
        format!("{problem} Nada foi enviado: edite o rascunho e escolha quando enviar.")
    }
    pub const SMTP_NOT_CONFIGURED: &str =
        "O e-mail não está configurado: preencha Configurações → Canais → E-mail.";
    pub const SMTP_NO_ANSWER: &str = "O servidor SMTP não respondeu como esperado.";
    pub const NOT_ALLOWED: &str = "Esta ação não é possível na situação atual da campanha.";
    pub const FORM_TOKEN_OTHER_FORM: &str = "Este envio não corresponde ao formulário desta \
         página (ele pode ter vindo de outra página aberta). Nada foi feito: recarregue a \
         página e tente de novo.";
    pub const TEST_ALREADY_SENT: &str = "Mensagem de teste enviada (por este mesmo \
         formulário, já enviado antes): nada foi enviado de novo. O destino está na auditoria.";
    pub const TEST_ALREADY_FAILED: &str = "O envio de teste deste formulário, feito antes, \
         falhou; nada foi enviado de novo. O motivo está na auditoria.";
    pub const TEST_ALREADY_POSTED: &str =
        "Este formulário de teste já foi enviado: nada foi enviado de novo.";
    pub const ONLY_DRAFTS_CHANGE: &str = "Só um rascunho pode ser alterado.";

    pub fn text_required(field: &str) -> &'static str {
        match field {
            "subject" => "Informe o assunto.",
            _ => "Escreva a mensagem.",
        }
    }

    pub fn text_too_long(max: usize) -> String {
        format!("O texto pode ter até {max} caracteres.")
    }

    /// Why a run was recorded as Perdida.
    pub fn missed_reason(scheduled_for: i64, grace_secs: i64) -> String {
        format!(
            "Nenhum servidor estava no ar às {} e o prazo de tolerância de {} minutos passou: a execução não foi enviada atrasada.",
            crate::time::format_br(scheduled_for),
            grace_secs / 60
        )
    }

    pub const TEST_ADDRESS_INVALID: &str = "Informe um e-mail válido para o envio de teste.";
    pub const TEST_PHONE_INVALID: &str =
        "Informe um telefone válido (com DDD) para o envio de teste.";
    pub const TEST_NO_RECIPIENT: &str =
        "Nenhum destinatário com mensagem encontrado: busque por outro telefone, e-mail ou nome.";

    pub fn test_sent(recipient: &str, to: &str) -> String {
        format!(
            "Mensagem de teste (a de {recipient}) enviada para {to}. Ela não conta como envio da campanha."
        )
    }

    pub fn test_failed(error: &str) -> String {
        format!("O envio de teste falhou: {error}")
    }

    /// The visible opt-out link at the end of every campaign e-mail.
    pub fn unsubscribe_footer(url: &str) -> String {
        format!("\n\n--\nPara não receber mais estas mensagens, acesse: {url}")
    }
}

/// Configurações → Canais.
pub mod channels {
    pub const PORT_INVALID: &str = "Informe a porta (1 a 65535).";
    pub const HOST_INVALID: &str = "Informe o servidor SMTP (sem espaços).";
    pub const FROM_INVALID: &str = "Informe o e-mail do remetente.";
    pub const REPLY_TO_INVALID: &str = "O endereço de resposta não é um e-mail válido.";
    pub const SAVED: &str = "Configurações de canais salvas.";
    pub const TEST_OK: &str = "Conexão com o servidor SMTP bem-sucedida.";
    pub const STOP_WORDS_REQUIRED: &str =
        "Informe ao menos uma palavra de descadastro (por exemplo: SAIR, PARAR).";
    pub const DIGITS_ONLY: &str = "Use só os dígitos do ID, como aparece no painel da Meta.";
    pub const HOST_NOT_PUBLIC: &str = "O endereço aponta para uma rede interna, local ou de \
         metadados, onde o Engajar não se conecta. Informe o endereço público do provedor.";
    pub const SMTP_HOST_UNRESOLVED: &str = "Não foi possível encontrar este servidor SMTP \
         (o nome não resolve agora). Confira o endereço ou use o IP do servidor.";
    pub const SMTP_HOST_REFUSED: &str = "O servidor SMTP aponta para um endereço link-local ou \
         de metadados, onde o Engajar não se conecta.";
    pub const CLIENT_FAILED: &str = "Não foi possível preparar a conexão com o provedor.";
    pub const SECRET_NEEDED_FOR_NEW_HOST: &str = "O endereço (ou a porta e a segurança) é diferente do salvo: digite as \
         credenciais para testá-lo (as salvas só são enviadas ao endereço salvo).";

    /// A provider's refusal as people read it: what its code means, never its own words
    /// (those go to the log only).
    pub fn provider_refusal(code: &str, status: u16) -> String {
        if let Some(known) = known_refusal(code) {
            return known.into();
        }
        match code {
            _ if status == 401 || status == 403 => "credenciais recusadas pelo provedor".into(),
            _ if status >= 500 => format!("o provedor está com falha (HTTP {status})"),
            _ => format!("o provedor recusou o pedido (HTTP {status})"),
        }
    }

    /// A failure a provider reported later in a status callback (WhatsApp `errors[]`,
    /// Zenvia's status code, Twilio's `ErrorCode`), as people read it; `otherwise` when
    /// the code is not one we know. The provider's own words go to the log only.
    pub fn reported_failure(code: &str, otherwise: &str) -> String {
        known_refusal(code).map_or_else(|| otherwise.to_string(), str::to_string)
    }

    fn known_refusal(code: &str) -> Option<&'static str> {
        Some(match code {
            "190" | "20003" | "AUTHENTICATION_ERROR" => {
                "credenciais recusadas pelo provedor (token inválido ou expirado)"
            }
            "131026" | "1013" => "o número não recebe mensagens do WhatsApp",
            "131050" => "a pessoa parou de receber mensagens de marketing no WhatsApp",
            "131021" => "o destinatário é o próprio número de envio",
            "131049" => "a Meta não entregou a mensagem de marketing para preservar o engajamento",
            "132000" => "o número de parâmetros não confere com o modelo",
            "132001" => "o modelo não existe nesse idioma",
            "132015" | "132016" => "o modelo está pausado ou desativado na Meta",
            "131047" => "fora da janela de 24 horas da conversa",
            "130429" | "131056" | "4" | "80007" | "429" => {
                "limite de envio do provedor atingido; nova tentativa mais tarde"
            }
            "100" => "o provedor recusou um campo do pedido",
            "21211" | "21614" | "21612" => "número de destino inválido",
            "21610" => "o destinatário pediu para não receber SMS (STOP)",
            "21408" => "envio não permitido para essa região na conta",
            "30003" | "30005" => "o número de destino está inacessível ou não existe",
            "30006" => "o número de destino é fixo ou não recebe SMS",
            "30007" => "a operadora filtrou a mensagem",
            "NOT_DELIVERED" => "não entregue pela operadora",
            "REJECTED" => "recusada pelo provedor",
            _ => return None,
        })
    }

    /// An SMTP failure as people read it, from its reply code (never the server's words).
    pub fn smtp_failure(code: &str, permanent: bool) -> String {
        match code {
            "timeout" => "o servidor SMTP não respondeu a tempo".into(),
            "connection" => "não foi possível conectar ao servidor SMTP".into(),
            "535" | "534" | "530" => "o servidor SMTP recusou o usuário ou a senha".into(),
            "550" | "551" | "553" => "o servidor SMTP recusou o destinatário".into(),
            "552" => "a mensagem excede o limite do servidor SMTP".into(),
            _ if permanent => format!("o servidor SMTP recusou a mensagem (código {code})"),
            _ => format!("o servidor SMTP pediu nova tentativa mais tarde (código {code})"),
        }
    }

    /// A provider's answer that could not be read.
    pub const PROVIDER_UNEXPECTED: &str = "resposta inesperada do provedor";

    pub fn out_of_range(min: i64, max: i64) -> String {
        format!("Informe um número de {min} a {max}.")
    }

    pub fn test_failed(e: &str) -> String {
        format!("Não foi possível conectar: {e}")
    }
}

/// WhatsApp templates, template campaigns and the provider settings.
pub mod whatsapp {
    pub const NAME_INVALID: &str = "Informe o nome do modelo como aprovado na Meta: letras minúsculas, números e _ (ex.: promo_loja).";
    pub const LANGUAGE_INVALID: &str = "Informe o idioma do modelo, como pt_BR ou en_US.";
    pub const BODY_REQUIRED: &str = "Informe o texto do modelo.";
    pub const BODY_CONTROL: &str = "O texto do modelo tem caracteres de controle.";
    pub const PARAMETER_UNCLOSED: &str = "Um parâmetro foi aberto com {{ e não fechado com }}.";
    pub const PARAMETERS_NOT_SEQUENTIAL: &str =
        "Os parâmetros devem ser numerados em sequência a partir de {{1}}, sem pular números.";
    pub const TEMPLATE_REQUIRED: &str = "Escolha o modelo do WhatsApp.";
    pub const TEMPLATE_NOT_FOUND: &str = "Modelo do WhatsApp não encontrado: cadastre ou sincronize os modelos em Configurações → Modelos do WhatsApp.";
    pub const NOT_CONFIGURED: &str =
        "O WhatsApp não está configurado: preencha Configurações → Canais → WhatsApp.";
    pub const WABA_MISSING: &str =
        "Informe o ID da conta do WhatsApp Business (WABA) para sincronizar os modelos.";
    pub const SAVED: &str = "Configurações do WhatsApp salvas.";
    pub const TEST_OK: &str = "A API do WhatsApp respondeu: o número e o token estão corretos.";

    pub fn parameter_invalid(inside: &str) -> String {
        format!("Parâmetro inválido: {{{{{inside}}}}}. Use {{{{1}}}}, {{{{2}}}}… (até {{{{10}}}}).")
    }

    pub fn body_too_long(max: usize) -> String {
        format!("O texto do modelo pode ter até {max} caracteres.")
    }

    /// Meta refuses a send whose parameters do not match the template (error 132000).
    pub fn parameter_count(template: &str, expected: usize, given: usize) -> String {
        format!(
            "O modelo {template} tem {expected} parâmetro(s) e foram informados {given}: preencha exatamente {{{{1}}}} a {{{{{expected}}}}} (a Meta recusaria o envio com o erro 132000)."
        )
    }

    pub fn parameter_empty(n: usize) -> String {
        format!("Informe o valor de {{{{{n}}}}}: uma variável (como @PrimeiroNome) ou um texto.")
    }

    pub fn template_saved(name: &str, language: &str, new: bool) -> String {
        if new {
            format!("Modelo {name} ({language}) cadastrado.")
        } else {
            format!("Modelo {name} ({language}) atualizado.")
        }
    }

    pub const SYNC_ALREADY_DONE: &str = "Sincronização concluída (pedida por este mesmo \
         formulário, já enviado antes): nada foi pedido de novo à Meta.";
    pub const SYNC_ALREADY_FAILED: &str = "A sincronização pedida por este formulário, \
         enviado antes, falhou; nada foi pedido de novo à Meta. Tente outra vez.";
    pub const SYNC_ALREADY_POSTED: &str =
        "Este formulário de sincronização já foi enviado: nada foi pedido de novo à Meta.";

    pub fn synced(approved: usize, ignored: usize) -> String {
        format!(
            "Sincronização concluída: {approved} modelo(s) aprovado(s) gravado(s); {ignored} ignorado(s) (não aprovados ou com parâmetros fora do padrão)."
        )
    }

    pub fn api_failed(e: &str) -> String {
        format!("A API do WhatsApp não aceitou o pedido: {e}")
    }
}

/// The SMS channel's settings and composer.
pub mod sms {
    pub const NOT_CONFIGURED: &str =
        "O SMS não está configurado: preencha Configurações → Canais → SMS.";
    pub const PROVIDER_INVALID: &str = "Escolha o provedor de SMS: Zenvia ou Twilio.";
    pub const FROM_REQUIRED: &str =
        "Informe o remetente (o número, o ID de remetente ou o Messaging Service SID).";
    pub const CREDENTIALS_REQUIRED: &str = "Informe as credenciais do provedor escolhido.";
    pub const BASE_URL_INVALID: &str = "Informe um endereço http:// ou https:// válido.";
    pub const SAVED: &str = "Configurações de SMS salvas.";
    pub const TEST_OK: &str = "O provedor de SMS respondeu: as credenciais estão corretas.";
    pub const FALLBACK_HINT: &str =
        "Com a MENSAGEM de cada linha, o texto acima vale para as linhas sem MENSAGEM.";

    pub fn api_failed(e: &str) -> String {
        format!("O provedor de SMS não aceitou o pedido: {e}")
    }

    pub fn webhook_secret_short(min: usize) -> String {
        format!(
            "O segredo do webhook precisa ter ao menos {min} caracteres; use o sugerido abaixo."
        )
    }
}

/// What the providers' callbacks record.
pub mod webhooks {
    /// A failure a provider reported with a code we do not know.
    pub const FAILED_AT_PROVIDER: &str = "falha informada pelo provedor";

    /// An incoming WhatsApp message that is not text (a photo, an audio…).
    pub fn non_text(kind: &str) -> String {
        let what = match kind {
            "image" => "uma imagem",
            "audio" => "um áudio",
            "video" => "um vídeo",
            "document" => "um documento",
            "sticker" => "uma figurinha",
            "location" => "uma localização",
            "contacts" => "um contato",
            "reaction" => "uma reação",
            _ => "uma mensagem sem texto",
        };
        format!("[O cliente enviou {what} pelo WhatsApp.]")
    }

    pub fn twilio_failed(status: &str) -> String {
        match status {
            "undelivered" => "não entregue pela operadora".into(),
            _ => "falhou no provedor".into(),
        }
    }
}

/// The audit entry of an undone import.
pub fn audience_deleted(id: i64, undo: &crate::models::erase::ImportUndo, cli: bool) -> String {
    format!(
        "Excluiu o público #{id}: {} linha(s) removida(s), {} contato(s) criado(s) por ele \
         excluído(s), {} contato(s) mantido(s){}{}.",
        undo.deleted_members,
        undo.deleted_contacts,
        undo.kept_contacts,
        if undo.deleted_campaigns.is_empty() {
            String::new()
        } else {
            format!(
                "; campanha(s) que nunca enviaram excluída(s) junto: {}",
                undo.deleted_campaigns.join(", ")
            )
        },
        if cli { " (linha de comando)" } else { "" }
    )
}

/// Why a campaign cannot be deleted, in pt-BR.
pub fn campaign_delete_refused(refusal: crate::models::campaign::DeleteRefusal) -> &'static str {
    use crate::models::campaign::DeleteRefusal;
    match refusal {
        DeleteRefusal::HasSent => {
            "Esta campanha já enviou mensagens e não pode ser excluída: ela guarda o histórico \
             de envios. Cancele-a, se quiser que não envie mais nada."
        }
        DeleteRefusal::Active => "Esta campanha está em andamento: cancele-a antes de excluí-la.",
    }
}

/// Why an import cannot be undone, in pt-BR.
pub fn undo_refused(refusal: &crate::models::erase::UndoRefusal) -> String {
    use crate::models::erase::UndoRefusal;
    match refusal {
        UndoRefusal::Running => {
            "Este público ainda está sendo importado: espere a importação terminar para \
             excluí-lo."
                .to_string()
        }
        UndoRefusal::Campaigns(names) => format!(
            "Este público não pode ser excluído: a(s) campanha(s) {} enviou(aram) ou vai(ão) \
             enviar mensagens a ele e guarda(m) esse histórico. Campanhas que nunca enviaram \
             nada não impedem a exclusão.",
            names.join(", ")
        ),
    }
}

/// Beside a phone whose owner stopped WhatsApp marketing messages.
pub fn whatsapp_marketing_stopped(since: &str) -> String {
    format!("não recebe modelos de marketing no WhatsApp (pediu em {since})")
}

pub const TITULAR_KEY_INVALID: &str = "Informe um CPF/CNPJ, um telefone ou um e-mail válido (em qualquer formato que a importação aceita).";
pub const TITULAR_ERASED: &str =
    "Dados do titular eliminados. O registro da eliminação ficou na Auditoria, sem os dados.";
pub const TITULAR_ERASED_REASON_REDACTED: &str = "Dados do titular eliminados. Atenção: o motivo citava dados da própria pessoa — no registro eles foram trocados por [dado do titular]. Não escreva dados do titular no motivo.";
pub const TITULAR_REASON_REQUIRED: &str =
    "Informe o motivo da eliminação (até 500 caracteres), sem dados da pessoa.";

/// The audit entry of a titular's data shown or exported (no personal data in it).
pub fn titular_access(action: &str, contact: i64) -> String {
    match action {
        "titular_export" => {
            format!("Exportou os dados do contato #{contact} (relatório do titular).")
        }
        "contact_view" => format!("Consultou o contato #{contact}."),
        _ => format!("Consultou o relatório do titular do contato #{contact}."),
    }
}

/// The audit entry of an elimination: what went, and why; never whose.
pub fn titular_erased(done: &crate::models::titular::Erasure, reason: &str) -> String {
    format!(
        "Eliminou os dados de um titular: {} contato(s) excluído(s), {} linha(s) de público \
         removida(s), {} registro(s) anonimizado(s), {} entrada(s) do Não Perturbe removida(s){}. \
         Motivo: {reason}",
        done.erased_contacts,
        done.removed_audience_rows,
        done.anonymised_rows,
        done.removed_dnd_entries,
        if done.suppressed_keys > 0 {
            format!(
                "; reimportação impedida ({} chave(s) guardada(s) só como hash)",
                done.suppressed_keys
            )
        } else {
            String::new()
        }
    )
}

pub const TITULAR_REQUEST_SAVED: &str = "Pedido registrado: o prazo de resposta é de 15 dias.";
pub const TITULAR_REQUEST_ANSWERED: &str = "Resposta registrada.";
pub const TITULAR_REQUEST_KIND: &str = "Escolha o tipo do pedido.";
pub const TITULAR_REQUEST_REQUESTER: &str = "Informe quem fez o pedido (até 200 caracteres).";
pub const TITULAR_REQUEST_DATE: &str =
    "Informe a data em que o pedido chegou (não pode ser futura).";
pub const TITULAR_REQUEST_NOT_OPEN: &str = "Este pedido já foi respondido.";

pub const OPT_OUT_INVALID: &str =
    "Informe um telefone com DDD (11 98765-4321) ou um e-mail completo.";
pub const OPT_OUT_TOO_MANY: &str =
    "Muitos pedidos vindos desta rede na última hora. Tente de novo mais tarde.";

pub const CONTACT_NAME_TOO_LONG: &str = "O nome pode ter até 200 caracteres.";
pub const CONTACT_CODE_TOO_LONG: &str = "O código do cliente pode ter até 100 caracteres.";
pub const CONTACT_PRIORITY: &str = "Escolha a prioridade: Alta, Média ou Baixa.";
pub const CONTACT_TAGS: &str = "Até 20 tags, separadas por vírgula, de até 100 caracteres cada.";
pub const CONTACT_CHANNEL_INVALID: &str =
    "Telefone ou e-mail inválido: use DDD e número (11 98765-4321) ou um e-mail completo.";
pub const CONTACT_DOCUMENT_TAKEN: &str = "Este CPF/CNPJ já é de outro contato.";
pub const CONTACT_CHANNEL_TAKEN: &str = "Este telefone ou e-mail já é de outro contato.";
pub const CONTACT_CHANNEL_SUPPRESSED: &str = "Este telefone ou e-mail foi eliminado a pedido do titular, com reimportação impedida: não pode voltar à base.";
pub const CONTACT_DOCUMENT_SUPPRESSED: &str = "Este CPF/CNPJ foi eliminado a pedido do titular, com reimportação impedida: não pode voltar à base.";
pub const CONTACT_LAST_CHANNEL: &str = "O contato precisa de ao menos um telefone ou e-mail.";
/// Mesclar contatos, refused: a CPF/CNPJ names one legal person.
pub const MERGE_DIFFERENT_DOCUMENTS: &str = "Estes contatos não podem ser mesclados: têm CPF/CNPJ diferentes, então são pessoas diferentes. Se um dos documentos está errado, corrija-o em Editar contato antes.";

pub const TITULAR_REVOKED: &str = "Consentimento revogado: os telefones e e-mails do titular estão no Não Perturbe e as linhas importadas por consentimento ficaram marcadas.";

/// The audit entry of a revoked consent.
pub fn titular_revoked(contact: i64, done: &crate::models::titular::Revocation) -> String {
    format!(
        "Revogou o consentimento do contato #{contact}: {} canal(is) no Não Perturbe, {} linha(s) \
         de público marcada(s).",
        done.dnd_added, done.rows_revoked
    )
}

pub const RETENTION_SAVED: &str = "Prazos de retenção salvos.";
pub const RETENTION_DAYS: &str =
    "Use um número inteiro de dias, de 1 a 36500, ou deixe vazio para guardar sempre.";

/// The audit entry of a retention run.
pub fn retention_ran(removed: &crate::models::retention::Removed, cli: bool) -> String {
    format!(
        "Retenção aplicada: {} linha(s) de público tiveram mensagem, coringas e tag apagados; \
         {} linha(s) rejeitada(s) e {} arquivo(s) removidos{}.",
        removed.audience_rows,
        removed.rejected_rows,
        removed.uploads,
        if cli { " (linha de comando)" } else { "" }
    )
}
