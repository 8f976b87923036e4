-- One table per kind, one row per resource (keyed by its uid), holding the
-- resource as last seen. resource_version orders the writes: an upsert never
-- replaces a newer version with an older one.
CREATE TABLE whatsapp_commerce.orders (
    uid              uuid        PRIMARY KEY,
    namespace        text        NOT NULL,
    name             text        NOT NULL,
    resource_version bigint      NOT NULL,
    created_at       timestamptz NOT NULL,
    -- when the archive saw the resource deleted from the cluster
    deleted_at       timestamptz,
    document         jsonb       NOT NULL,
    archived_at      timestamptz NOT NULL DEFAULT now(),
    -- what queries filter on, kept in step with the document
    channel          text        GENERATED ALWAYS AS (document #>> '{spec,channel}') STORED,
    phase            text        GENERATED ALWAYS AS (document #>> '{status,phase}') STORED
);
CREATE INDEX orders_namespace_name ON whatsapp_commerce.orders (namespace, name);
CREATE INDEX orders_channel_created ON whatsapp_commerce.orders (namespace, channel, created_at);

CREATE TABLE whatsapp_commerce.inquiries (LIKE whatsapp_commerce.orders INCLUDING ALL);
CREATE TABLE whatsapp_commerce.product_messages (LIKE whatsapp_commerce.orders INCLUDING ALL);
