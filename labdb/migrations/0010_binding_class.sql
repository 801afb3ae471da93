-- The class a kit binding belongs to: a team's class, or the class a student was bound in. Who may
-- change the binding (and see the kit on a class board) follows this class, not any class the
-- student happens to be enrolled in.
ALTER TABLE kit_bindings ADD COLUMN class_id VARCHAR(36) REFERENCES classes (id) ON DELETE CASCADE;
UPDATE kit_bindings SET class_id = (SELECT t.class_id FROM teams t WHERE t.id = kit_bindings.team_id)
  WHERE team_id IS NOT NULL;
UPDATE kit_bindings SET class_id = (SELECT MIN(m.class_id) FROM class_members m WHERE m.user_id = kit_bindings.student_id)
  WHERE student_id IS NOT NULL;
CREATE INDEX kit_bindings_class ON kit_bindings (class_id);
