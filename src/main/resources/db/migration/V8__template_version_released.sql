-- Whether a template version is or was the active one: members may create and update workspaces only on released
-- versions; a version published with activate: false is for owners and template admins until it is activated.
-- Existing versions: those above the active version were published without activation and never activated since.
ALTER TABLE template_version_view ADD COLUMN released BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE template_version_view v SET released = FALSE
FROM template_view t WHERE t.id = v.template_id AND v.version > t.active_version;
