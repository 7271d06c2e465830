CREATE TABLE incubators (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    host_institution_id uuid NOT NULL REFERENCES institutions (id),
    country_code        text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    city                text,
    themes              text[] NOT NULL DEFAULT '{}',
    capacity            integer NOT NULL CHECK (capacity > 0),
    services            text[] NOT NULL DEFAULT '{}',
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1
);
CREATE INDEX incubators_created_at_idx ON incubators (created_at, id);
CREATE INDEX incubators_updated_at_idx ON incubators (updated_at, id);
CREATE TRIGGER incubators_touch BEFORE UPDATE ON incubators FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE ventures (
    id                  uuid PRIMARY KEY,
    incubator_id        uuid NOT NULL REFERENCES incubators (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    theme               text NOT NULL,
    country_code        text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    founder_trainee_ids uuid[] NOT NULL DEFAULT '{}',
    description         text,
    status              text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'admitted',
                            'rejected', 'incubating', 'graduated', 'exited', 'closed')),
    admitted_on         date,
    graduated_on        date,
    jobs_created        integer NOT NULL DEFAULT 0 CHECK (jobs_created >= 0),
    funding_raised_usd  numeric(16, 2) NOT NULL DEFAULT 0 CHECK (funding_raised_usd >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1
);
CREATE INDEX ventures_incubator_idx ON ventures (incubator_id, status);
CREATE INDEX ventures_founders_idx ON ventures USING gin (founder_trainee_ids);
CREATE INDEX ventures_created_at_idx ON ventures (created_at, id);
CREATE INDEX ventures_updated_at_idx ON ventures (updated_at, id);
CREATE TRIGGER ventures_touch BEFORE UPDATE ON ventures FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE milestones (
    id          uuid PRIMARY KEY,
    venture_id  uuid NOT NULL REFERENCES ventures (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due_on      date NOT NULL,
    achieved_on date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
CREATE INDEX milestones_venture_idx ON milestones (venture_id, due_on);
CREATE TRIGGER milestones_touch BEFORE UPDATE ON milestones FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE service_requests (
    id          uuid PRIMARY KEY,
    venture_id  uuid NOT NULL REFERENCES ventures (id) ON DELETE CASCADE,
    service     text NOT NULL,
    description text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'declined')),
    assignee_id uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
CREATE INDEX service_requests_venture_idx ON service_requests (venture_id, created_at);
CREATE INDEX service_requests_queue_idx ON service_requests (status, created_at, id);
CREATE TRIGGER service_requests_touch BEFORE UPDATE ON service_requests FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE exchange_agreements (
    id               uuid PRIMARY KEY,
    institution_a_id uuid NOT NULL REFERENCES institutions (id),
    institution_b_id uuid NOT NULL REFERENCES institutions (id),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    valid_from       date NOT NULL,
    valid_to         date NOT NULL,
    kinds            text[] NOT NULL,
    annual_quota     integer NOT NULL CHECK (annual_quota > 0),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminated')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    CONSTRAINT agreements_dates CHECK (valid_from <= valid_to),
    CONSTRAINT agreements_two_parties CHECK (institution_a_id <> institution_b_id)
);
CREATE INDEX exchange_agreements_created_at_idx ON exchange_agreements (created_at, id);
CREATE INDEX exchange_agreements_updated_at_idx ON exchange_agreements (updated_at, id);
CREATE TRIGGER exchange_agreements_touch BEFORE UPDATE ON exchange_agreements FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE exchanges (
    id                       uuid PRIMARY KEY,
    kind                     text NOT NULL CHECK (kind IN ('visiting_scholar', 'fellowship', 'internship',
                                 'joint_research', 'staff_secondment')),
    trainee_id               uuid NOT NULL REFERENCES trainees (id),
    sending_institution_id   uuid NOT NULL REFERENCES institutions (id),
    receiving_institution_id uuid NOT NULL REFERENCES institutions (id),
    agreement_id             uuid REFERENCES exchange_agreements (id),
    starts_on                date NOT NULL,
    ends_on                  date NOT NULL,
    funding_usd              numeric(16, 2) CHECK (funding_usd >= 0),
    status                   text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved',
                                 'rejected', 'cancelled', 'in_progress', 'completed')),
    proposed_by              uuid NOT NULL REFERENCES users (id),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    version                  integer NOT NULL DEFAULT 1,
    CONSTRAINT exchanges_dates CHECK (starts_on <= ends_on),
    CONSTRAINT exchanges_two_parties CHECK (sending_institution_id <> receiving_institution_id)
);
CREATE INDEX exchanges_agreement_idx ON exchanges (agreement_id, status, starts_on);
CREATE INDEX exchanges_trainee_idx ON exchanges (trainee_id);
CREATE INDEX exchanges_sending_idx ON exchanges (sending_institution_id);
CREATE INDEX exchanges_receiving_idx ON exchanges (receiving_institution_id);
CREATE INDEX exchanges_created_at_idx ON exchanges (created_at, id);
CREATE INDEX exchanges_updated_at_idx ON exchanges (updated_at, id);
CREATE TRIGGER exchanges_touch BEFORE UPDATE ON exchanges FOR EACH ROW EXECUTE FUNCTION meridian_touch();
