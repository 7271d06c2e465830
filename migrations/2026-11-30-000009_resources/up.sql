-- The knowledge-sharing catalogue: courses, datasets and models that
-- institutions share, under a licence, and the cohorts and ventures that use
-- them.
CREATE TABLE resources (
    id                   uuid PRIMARY KEY,
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind                 text NOT NULL CHECK (kind IN ('course', 'curriculum', 'dataset', 'model',
                             'toolkit', 'paper')),
    description          text,
    url                  text NOT NULL CHECK (url LIKE 'https://%'),
    languages            text[] NOT NULL DEFAULT '{}',
    themes               text[] NOT NULL DEFAULT '{}',
    licence              text NOT NULL,
    ip_terms             text NOT NULL CHECK (ip_terms IN ('open', 'attribution', 'non_commercial',
                             'restricted')),
    owner_institution_id uuid NOT NULL REFERENCES institutions (id),
    visibility           text NOT NULL DEFAULT 'partners' CHECK (visibility IN ('public', 'partners')),
    status               text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published',
                             'withdrawn')),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1
);
CREATE INDEX resources_owner_idx ON resources (owner_institution_id);
CREATE INDEX resources_status_idx ON resources (status, visibility);
CREATE INDEX resources_created_at_idx ON resources (created_at, id);
CREATE INDEX resources_updated_at_idx ON resources (updated_at, id);
CREATE TRIGGER resources_touch BEFORE UPDATE ON resources FOR EACH ROW EXECUTE FUNCTION meridian_touch();

-- A resource used by a cohort; removing the cohort removes its links, a
-- linked resource cannot be removed (409).
CREATE TABLE cohort_resources (
    cohort_id   uuid NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    resource_id uuid NOT NULL REFERENCES resources (id),
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, resource_id)
);
CREATE INDEX cohort_resources_resource_idx ON cohort_resources (resource_id);

CREATE TABLE venture_resources (
    venture_id  uuid NOT NULL REFERENCES ventures (id) ON DELETE CASCADE,
    resource_id uuid NOT NULL REFERENCES resources (id),
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venture_id, resource_id)
);
CREATE INDEX venture_resources_resource_idx ON venture_resources (resource_id);
