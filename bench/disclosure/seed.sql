-- Seeds :records published records into disclosure.records for bench/disclosure/run.sh.
-- Texts are built from the vocabulary of real 双公示 records (regions, industries, permit
-- names, violations); picks are hash-based so that category, region and wording are
-- independent of each other, as in real data. The masked JSON is what the service serves.
SET search_path TO disclosure, public;
TRUNCATE records;
INSERT INTO records (index_no, year, seq, category, status, source_service, source_id, uscc,
                     decision_date, publish_date, search_text, masked, original)
SELECT 'bench/' || year || '-' || lpad(seq::text, 7, '0'), year, seq, category, 2, 'bench',
       'bench-' || g, '', make_date(year, 1 + g % 12, 1 + g % 28), make_date(year, 1 + g % 12, 1 + g % 28),
       title || ' ' || body,
       jsonb_build_object('indexNo', 'bench/' || year || '-' || lpad(seq::text, 7, '0'),
                          'category', category, 'status', 'RECORD_STATUS_PUBLISHED',
                          'title', title, 'body', body),
       '{}'::jsonb
FROM (
  SELECT g, 2020 + (h1 % 7) AS year, g AS seq, 1 + (h2 % 4) AS category,
    (ARRAY['福州市','厦门市','泉州市','漳州市','南平市','三明市','龙岩市','莆田市','宁德市'])[1 + h3 % 9]
      || chr(19968 + h4 % 6000) || chr(19968 + h5 % 6000)
      || (ARRAY['化工','烟花爆竹','矿业','冶金','机械','贸易','物流','新材料','能源','建材'])[1 + h6 % 10]
      || (ARRAY['有限公司','股份有限公司','有限责任公司'])[1 + h7 % 3] AS title,
    (ARRAY['危险化学品经营许可证','烟花爆竹经营(批发)许可证','烟花爆竹经营(零售)许可证',
           '非煤矿山安全生产许可证','危险化学品建设项目安全条件审查',
           '未按规定对从业人员进行安全生产教育和培训','未建立事故隐患排查治理制度',
           '安全设备的安装、使用、检测不符合国家标准或者行业标准',
           '未如实记录安全生产教育和培训情况','特种作业人员未取得相应资格上岗作业'])[1 + h8 % 10]
      || ',依据《中华人民共和国安全生产法》第' || (90 + h1 % 30) || '条,罚款人民币'
      || (1 + h2 % 50) || '万元。' AS body
  FROM (
    SELECT g,
      (hashint4(g) & 2147483647) AS h1, (hashint4(g + 1000000007) & 2147483647) AS h2,
      (hashint4(g * 3 + 1) & 2147483647) AS h3, (hashint4(g * 5 + 2) & 2147483647) AS h4,
      (hashint4(g * 7 + 3) & 2147483647) AS h5, (hashint4(g * 11 + 4) & 2147483647) AS h6,
      (hashint4(g * 13 + 5) & 2147483647) AS h7, (hashint4(g * 17 + 6) & 2147483647) AS h8
    FROM generate_series(1, :records) AS g
  ) AS hashes
) AS rows;
ANALYZE records;
