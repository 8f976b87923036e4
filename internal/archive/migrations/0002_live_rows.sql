-- The rows not marked deleted, in uid order: what the sweep at a leader's
-- start pages through, without reading past the deleted ones, which outgrow
-- the live set over the years.
CREATE INDEX orders_live ON whatsapp_commerce.orders (uid) WHERE deleted_at IS NULL;
CREATE INDEX inquiries_live ON whatsapp_commerce.inquiries (uid) WHERE deleted_at IS NULL;
CREATE INDEX product_messages_live ON whatsapp_commerce.product_messages (uid) WHERE deleted_at IS NULL;
