-- Refresh tokens, stored only as SHA-256 hashes. A family is one login:
-- rotating issues a new token of the same family, presenting a rotated-out
-- token revokes the whole family.
CREATE TABLE refresh_tokens (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id         uuid NOT NULL,
    token_hash        bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- 24 hours after issue, never after the family's end.
    expires_at        timestamptz NOT NULL,
    -- 7 days after the login.
    family_expires_at timestamptz NOT NULL,
    rotated_at        timestamptz,
    revoked_at        timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE invitations (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email)),
    role           text NOT NULL CHECK (role IN ('admin', 'coordinator', 'partner', 'trainee', 'viewer')),
    institution_id uuid REFERENCES institutions (id),
    trainee_id     uuid,
    locale         text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr', 'ar', 'es', 'pt', 'zh')),
    invited_by     uuid NOT NULL REFERENCES users (id),
    token_hash     bytea NOT NULL,
    expires_at     timestamptz NOT NULL,
    accepted_at    timestamptz,
    user_id        uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    CONSTRAINT invitations_partner_has_institution CHECK (role <> 'partner' OR institution_id IS NOT NULL),
    CONSTRAINT invitations_trainee_has_trainee CHECK (role <> 'trainee' OR trainee_id IS NOT NULL)
);
CREATE UNIQUE INDEX invitations_hash_key ON invitations (token_hash);
CREATE INDEX invitations_email_idx ON invitations (email);
CREATE TRIGGER invitations_touch BEFORE UPDATE ON invitations
    FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE password_resets (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX password_resets_hash_key ON password_resets (token_hash);

-- Failed logins per email address (known or not), for the 15-minute lock.
CREATE TABLE login_failures (
    id    bigserial PRIMARY KEY,
    email text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);

-- Fixed one-minute windows of requests per key (client IP), shared by
-- every instance.
CREATE TABLE rate_limits (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
