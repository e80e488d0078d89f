//! Diesel table definitions, shared by the SQLite and PostgreSQL migrations.

diesel::table! {
    titular_requests (id) {
        id -> BigInt,
        kind -> Text,
        requester -> Text,
        subject_key -> Text,
        received_at -> BigInt,
        due_at -> BigInt,
        status -> Text,
        answered_at -> Nullable<BigInt>,
        note -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    contact_former_values (id) {
        id -> BigInt,
        contact_id -> BigInt,
        kind -> Text,
        value -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    suppressed_keys (key) {
        key -> Text,
        kind -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    import_validations (id) {
        id -> BigInt,
        user_id -> BigInt,
        upload -> Nullable<Text>,
        spec -> Text,
        report -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    unmatched_receipts (id) {
        id -> BigInt,
        channel -> Text,
        provider_id -> Text,
        status -> Text,
        code -> Text,
        error -> Text,
        at -> BigInt,
        received_at -> BigInt,
        provider -> Text,
    }
}

diesel::table! {
    whatsapp_templates (id) {
        id -> BigInt,
        name -> Text,
        language -> Text,
        category -> Text,
        body -> Text,
        parameters -> Integer,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        disabled -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    segments (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    audiences (id) {
        id -> BigInt,
        description -> Text,
        segment_id -> BigInt,
        file_name -> Text,
        spool_path -> Nullable<Text>,
        legal_basis -> Text,
        opt_verify -> Integer,
        opt_nao_perturbe -> Integer,
        opt_manter_segmento -> Integer,
        opt_limpar_tag -> Integer,
        status -> Text,
        rows_total -> BigInt,
        rows_done -> BigInt,
        imported -> BigInt,
        rejected -> BigInt,
        dnd_skipped -> BigInt,
        verify_discarded -> BigInt,
        duplicate_rows -> BigInt,
        contacts_created -> BigInt,
        contacts_updated -> BigInt,
        file_errors -> BigInt,
        failure -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        form_token -> Nullable<Text>,
        description_search -> Nullable<Text>,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        name -> Nullable<Text>,
        name_search -> Nullable<Text>,
        document -> Nullable<Text>,
        customer_code -> Nullable<Text>,
        priority -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    contact_channels (id) {
        id -> BigInt,
        contact_id -> BigInt,
        kind -> Text,
        value -> Text,
        created_at -> BigInt,
        whatsapp -> Nullable<Text>,
        whatsapp_at -> Nullable<BigInt>,
        whatsapp_marketing -> Nullable<Text>,
        whatsapp_marketing_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    contact_tags (contact_id, tag) {
        contact_id -> BigInt,
        tag -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    contact_segments (contact_id, segment_id) {
        contact_id -> BigInt,
        segment_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    audience_members (id) {
        id -> BigInt,
        audience_id -> BigInt,
        contact_id -> BigInt,
        line -> BigInt,
        outcome -> Text,
        channel_kind -> Text,
        channel_value -> Text,
        message -> Nullable<Text>,
        coringa1 -> Nullable<Text>,
        coringa2 -> Nullable<Text>,
        coringa3 -> Nullable<Text>,
        coringa4 -> Nullable<Text>,
        coringa5 -> Nullable<Text>,
        tag -> Nullable<Text>,
        priority -> Nullable<Text>,
        consent_revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audience_row_errors (id) {
        id -> BigInt,
        audience_id -> BigInt,
        level -> Text,
        line -> Nullable<BigInt>,
        column_name -> Nullable<Text>,
        code -> Text,
        message -> Text,
        value -> Nullable<Text>,
        raw_row -> Nullable<Text>,
    }
}

diesel::table! {
    dnd_entries (id) {
        id -> BigInt,
        kind -> Text,
        value -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    interactions (id) {
        id -> BigInt,
        contact_id -> Nullable<BigInt>,
        channel_kind -> Text,
        channel_value -> Text,
        body -> Text,
        occurred_at -> BigInt,
        attended_at -> Nullable<BigInt>,
        attended_by -> Nullable<BigInt>,
        created_at -> BigInt,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        action -> Text,
        detail -> Text,
        ip -> Nullable<Text>,
        created_at -> BigInt,
        contact_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    document_conflicts (id) {
        id -> BigInt,
        contact_id -> BigInt,
        document -> Text,
        kept_by -> Nullable<BigInt>,
        found_at -> BigInt,
        resolved_at -> Nullable<BigInt>,
        resolved_by -> Nullable<BigInt>,
    }
}

diesel::joinable!(segments -> users (created_by));
diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(audiences -> segments (segment_id));
diesel::joinable!(audiences -> users (created_by));
diesel::joinable!(contact_channels -> contacts (contact_id));
diesel::joinable!(contact_tags -> contacts (contact_id));
diesel::joinable!(contact_segments -> contacts (contact_id));
diesel::joinable!(contact_segments -> segments (segment_id));
diesel::joinable!(audience_members -> audiences (audience_id));
diesel::joinable!(audience_members -> contacts (contact_id));
diesel::joinable!(audience_row_errors -> audiences (audience_id));
diesel::joinable!(interactions -> contacts (contact_id));
diesel::joinable!(audit_log -> users (user_id));
diesel::joinable!(api_tokens -> users (created_by));
diesel::joinable!(dnd_entries -> users (created_by));
diesel::joinable!(interactions -> users (attended_by));

// PostgreSQL only: uploads waiting for the worker (SQLite keeps them in the spool folder).
diesel::table! {
    uploads (id) {
        id -> BigInt,
        size -> BigInt,
        complete -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    upload_chunks (upload_id, seq) {
        upload_id -> BigInt,
        seq -> Integer,
        bytes -> Binary,
    }
}

diesel::joinable!(upload_chunks -> uploads (upload_id));

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        name -> Text,
        channel -> Text,
        audience_id -> Nullable<BigInt>,
        segment_id -> Nullable<BigInt>,
        subject -> Text,
        body -> Text,
        fallbacks -> Text,
        schedule_kind -> Text,
        schedule_at -> Nullable<BigInt>,
        schedule_time -> Nullable<Text>,
        schedule_days -> Nullable<Text>,
        schedule_until -> Nullable<BigInt>,
        next_run_at -> Nullable<BigInt>,
        status -> Text,
        last_error -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        template_id -> Nullable<BigInt>,
        template_params -> Text,
        options -> Text,
    }
}

diesel::table! {
    campaign_runs (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        scheduled_for -> BigInt,
        status -> Text,
        reason -> Nullable<Text>,
        recipients -> BigInt,
        skipped_no_channel -> BigInt,
        skipped_duplicate -> BigInt,
        consecutive_failures -> BigInt,
        last_error -> Nullable<Text>,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    campaign_messages (id) {
        id -> BigInt,
        run_id -> BigInt,
        contact_id -> Nullable<BigInt>,
        channel_value -> Text,
        line -> BigInt,
        subject -> Text,
        body -> Text,
        status -> Text,
        skip_reason -> Nullable<Text>,
        provider_id -> Nullable<Text>,
        error -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_ms -> BigInt,
        claimed_by -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        parameters -> Nullable<Text>,
        provider -> Nullable<Text>,
    }
}

diesel::table! {
    form_submissions (token) {
        token -> Text,
        location -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    dispatchers (id) {
        id -> Text,
        seen_ms -> BigInt,
    }
}

diesel::table! {
    channel_slots (channel) {
        channel -> Text,
        next_ms -> BigInt,
    }
}

diesel::joinable!(campaign_runs -> campaigns (campaign_id));
diesel::joinable!(campaign_messages -> campaign_runs (run_id));

diesel::allow_tables_to_appear_in_same_query!(
    campaigns,
    campaign_runs,
    campaign_messages,
    dispatchers,
    form_submissions,
    channel_slots,
    users,
    whatsapp_templates,
    unmatched_receipts,
    import_validations,
    suppressed_keys,
    contact_former_values,
    titular_requests,
    segments,
    audiences,
    contacts,
    contact_channels,
    contact_tags,
    contact_segments,
    audience_members,
    audience_row_errors,
    dnd_entries,
    interactions,
    api_tokens,
    settings,
    audit_log,
    user_sessions,
    document_conflicts,
    uploads,
    upload_chunks,
);
