CREATE TABLE `baselines` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`project_id` text NOT NULL,
	`case_id` text NOT NULL,
	`step_name` text NOT NULL,
	`branch` text NOT NULL,
	`browser_profile` text NOT NULL,
	`device` text NOT NULL,
	`viewport` text NOT NULL,
	`version` integer NOT NULL,
	`image_key` text NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`chromium_version` text NOT NULL,
	`source` text NOT NULL,
	`diff_id` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `baselines_identity_idx` ON `baselines` (`project_id`,`case_id`,`step_name`,`branch`,`browser_profile`,`device`,`viewport`);--> statement-breakpoint
CREATE TABLE `visual_diffs` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`project_id` text NOT NULL,
	`run_id` text NOT NULL,
	`case_id` text NOT NULL,
	`case_name` text NOT NULL,
	`step_name` text NOT NULL,
	`branch` text NOT NULL,
	`status` text NOT NULL,
	`changed_pixels` integer NOT NULL,
	`total_pixels` integer NOT NULL,
	`threshold` real NOT NULL,
	`baseline_id` text NOT NULL,
	`baseline_version` integer NOT NULL,
	`baseline_branch` text NOT NULL,
	`baseline_key` text NOT NULL,
	`baseline_chromium` text NOT NULL,
	`capture_key` text NOT NULL,
	`capture_chromium` text NOT NULL,
	`diff_key` text NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`created_at` text NOT NULL,
	`decided_at` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `visual_diffs_run_idx` ON `visual_diffs` (`run_id`,`id`);--> statement-breakpoint
ALTER TABLE `case_results` ADD `visual` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `default_branch` text DEFAULT 'main' NOT NULL;--> statement-breakpoint
UPDATE `suites` SET `source` = 'crawl' WHERE `source` = 'scan';
